"""The committed Containerfile on each Node base it is proven on (docs/containerfile.md, "Bases"): node:20-slim (the default),
node:22-slim and node:24-slim. Each is built by tools/harness/build-image.sh on that base (the official image when a
registry answers, else the harness's stand-in: a debootstrap minbase of the Debian release the official tag is built
on, with the official Node binary and the npm that release ships, from the npm registry), then run offline with Podman:
the base is that release with that Node and npm, `opencode --version` is the pin, the venv imports, /config answers
200, the plugin loads and starts the memory process, the health check passes and SIGTERM stops it (not a kill).
node:24-trixie-slim (Debian 13, Python 3.13) is proven the same way on request: PROVE_TRIXIE_BASE=1.

Which Debian release each tag is built on (nodejs/docker-node versions.json, "debian-default": bookworm for 20, 22
and 24; trixie only from Node 26 on) and why: docs/benchmarks/image.md, "Node bases"."""
from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.podman import (
    BUILD_SCRIPT, BUILD_TIMEOUT, IMAGE_TAG, OPEN_ON_A_PRIVATE_NETWORK, Container, Podman, PodmanError,
)
from tests.support.podman import podman as podman_command

from .test_state_volumes import PLUGIN_URL_PREFIX, api

REPO = Path(__file__).resolve().parents[2]
# The plugin package is kept at OpenCode's release (plugin/package.json): the pin the image must report.
OPENCODE_PIN = json.loads((REPO / 'plugin' / 'package.json').read_text())['dependencies']['@opencode-ai/plugin']
VENV_IMPORTS = 'import graphiti_core, falkordb, redis, ddtrace, datadog_api_client, b2sdk'
EXIT_ON_SIGTERM = {0, 143}  # 137 would be the engine's kill after the stop timeout


@dataclass(frozen=True)
class NodeBase:
    tag: str             # the official tag a user passes as BASE_IMAGE
    suite: str           # the Debian release that tag is built on
    debian_version: str  # /etc/debian_version starts with it
    python: str          # that release's python3 (the lock is compiled for 3.11, wheels only)
    node_version: str    # the Node release the official image had when checked (nodejs/docker-node, 2026-08)
    npm_version: str     # the npm that Node release ships with
    image_tag: str       # where build-image.sh puts the image built on it


BASES = [
    NodeBase('node:20-slim', 'bookworm', '12.', '3.11', '20.20.2', '10.8.2', IMAGE_TAG),
    NodeBase('node:22-slim', 'bookworm', '12.', '3.11', '22.23.2', '10.9.8', f'{IMAGE_TAG}-node22'),
    NodeBase('node:24-slim', 'bookworm', '12.', '3.11', '24.19.0', '11.17.0', f'{IMAGE_TAG}-node24'),
]
# Debian 13, as node:<major>-trixie-slim and node:26-slim are: Python 3.13 under a lock compiled for 3.11 (its markers
# pick numpy 2.5.5 there, and every binary package has a cp313 wheel). Not in CI (another debootstrap and cold build,
# ~6 min here); opt in with PROVE_TRIXIE_BASE=1 (docs/containerfile.md, "Bases").
TRIXIE = NodeBase('node:24-trixie-slim', 'trixie', '13.', '3.13', '24.19.0', '11.17.0', f'{IMAGE_TAG}-node24-trixie')
BASES.append(pytest.param(TRIXIE, id=TRIXIE.tag, marks=pytest.mark.skipif(
    not os.environ.get('PROVE_TRIXIE_BASE'), reason='a Debian 13 base is proven on request: PROVE_TRIXIE_BASE=1')))


def build_on(base: NodeBase) -> str:
    command = ['bash', str(BUILD_SCRIPT), '--tag', base.image_tag, '--suite', base.suite,
               '--node-version', base.node_version, '--npm-version', base.npm_version]
    result = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=dict(os.environ),
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise PodmanError(f'{" ".join(command[1:])} failed ({result.returncode}):\n{result.stderr[-4000:]}')
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope='module', params=BASES, ids=lambda base: base.tag)
def image_on_base(request: pytest.FixtureRequest) -> tuple[NodeBase, str]:
    base: NodeBase = request.param
    return base, build_on(base)


def layers(image: str) -> list[str]:
    return json.loads(podman_command('image', 'inspect', '--format', '{{json .RootFS.Layers}}', image).stdout)


def one_off(image: str, script: str) -> str:
    """`sh -c SCRIPT` in a throwaway container of IMAGE (no network), bypassing the server entrypoint."""
    return podman_command('run', '--rm', '--network', 'none', '--entrypoint', 'sh', image, '-c', script).stdout


def test_the_image_is_on_the_release_node_and_npm_of_the_base(image_on_base: tuple[NodeBase, str]):
    base, image = image_on_base
    # Built on that base (directly, or on the local base that adds the proxy's CAs to it): its layers come first.
    base_layers = layers(f'docker.io/library/{base.tag}')
    assert layers(image)[:len(base_layers)] == base_layers
    lines = one_off(image, 'cat /etc/debian_version; node --version; npm --version; /usr/bin/python3 --version').splitlines()
    debian, node, npm, python = (line.strip() for line in lines[-4:])
    assert debian.startswith(base.debian_version), debian
    assert node == f'v{base.node_version}'
    assert npm == base.npm_version
    assert python.startswith(f'Python {base.python}.'), python


def test_the_image_serves_offline_and_stops_on_sigterm_on_the_base(image_on_base: tuple[NodeBase, str],
                                                                     podman_session: Podman):
    base, image = image_on_base
    server: Container = podman_session.run(image, *OPEN_ON_A_PRIVATE_NETWORK, '--network', 'none',
                                           role=base.tag.replace(':', '-'))
    server.wait_http_inside('/config', '200', timeout=150)

    assert server.exec('opencode', '--version').stdout.strip().splitlines()[-1] == OPENCODE_PIN
    imports = server.exec('/opt/venv/bin/python', '-c', VENV_IMPORTS, check=False, timeout=120)
    assert imports.returncode == 0, imports.stderr[-2000:]

    config = api(server, 'GET', '/config')
    assert any(entry.startswith(PLUGIN_URL_PREFIX) for entry in config.get('plugin', [])), config.get('plugin')
    server.wait_healthy(timeout=120)
    logs = server.logs()
    assert '[graphiti-memory] started memory process' in logs, logs[-3000:]
    server_log = server.exec('sh', '-c', 'cat /root/.local/share/opencode/log/*.log').stdout
    assert 'failed to load plugin' not in (logs + server_log).lower(), (logs + server_log)[-3000:]

    server.stop(timeout_seconds=10)
    state = server.inspect()['State']
    assert not state['Running']
    assert state['ExitCode'] in EXIT_ON_SIGTERM, f'exit code {state["ExitCode"]}: killed, not stopped by SIGTERM'

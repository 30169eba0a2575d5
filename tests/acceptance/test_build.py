"""The build: from a digest-pinned base, behind this machine's TLS-intercepting proxy without the recipe knowing it,
validated as `dagger call build` validates its inputs, and stopped by a config.json that OpenCode would refuse."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.acceptance.image_under_test import containerfile_under_proof, image_inspect, pinned_opencode_version
from tests.support.podman import (REPO, IMAGE_OVERRIDE_VARIABLE, PodmanError, build_image, harness_work_dir,
                                  image_build_log, image_build_options, podman)

DEFAULT_EXTRA_CA_DIR = '/usr/local/share/ca-certificates'


def extra_ca_dir() -> Path | None:
    directory = Path(os.environ.get('OPENCODE_SERVER_EXTRA_CA_DIR', DEFAULT_EXTRA_CA_DIR))
    return directory if str(directory) and any(directory.glob('*.crt')) else None


def built_here() -> bool:
    return not os.environ.get(IMAGE_OVERRIDE_VARIABLE)


@pytest.mark.check('ca-base-npm-reaches-the-registry')
def test_npm_in_the_ca_base_reaches_the_registry_through_the_proxy():
    """The base the README's by-hand build uses behind a TLS-intercepting proxy (tools/make-ca-base.sh)."""
    ca_dir = extra_ca_dir()
    if ca_dir is None:
        pytest.skip('no extra CA certificates: the build uses the plain base')
    made = subprocess.run(['bash', str(REPO / 'tools' / 'harness' / 'make-base.sh'), '--extra-ca-dir', str(ca_dir)],
                          capture_output=True, text=True, timeout=1800, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    base = made.stdout.strip().splitlines()[-1]
    view = ['npm', 'view', '--no-update-notifier', f'opencode-ai@{pinned_opencode_version()}', 'version']
    result = podman('run', '--rm', '--network', 'host', '--entrypoint', '', base, *view, check=False, timeout=180)
    assert result.returncode == 0 and result.stdout.strip() == pinned_opencode_version(), \
        f'npm in {base} cannot reach the registry: {result.stderr[-2000:]}'


@pytest.mark.check('build-context-valid')
def test_the_build_context_is_valid_as_dagger_call_build_checks_it(build_context):
    check = ['npx', '--no-install', 'tsx', 'tools/check-build-context.ts', '--context', str(build_context)]
    result = subprocess.run(check, cwd=REPO, capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.check('build')
def test_the_containerfile_builds(opencode_image):
    healthcheck = image_inspect(opencode_image).get('Healthcheck')
    assert healthcheck, 'the image has no HEALTHCHECK (built without --format docker?)'


@pytest.mark.check('base-digest-pin')
def test_it_builds_from_a_digest_pinned_base(opencode_image):
    if not built_here():
        pytest.skip(f'{IMAGE_OVERRIDE_VARIABLE} names an image built elsewhere')
    log = image_build_log().read_text(errors='replace')
    assert re.search(r'FROM \S+@sha256:[0-9a-f]{64}', log), f'the build did not start FROM a digest: {log[:1500]}'


@pytest.mark.check('recipe-has-no-local-trust')
def test_the_recipe_carries_no_ca_or_proxy_of_this_machine():
    hits = [line for line in containerfile_under_proof().read_text().splitlines()
            if re.search(r'NODE_EXTRA_CA_CERTS|PIP_CERT|REQUESTS_CA_BUNDLE|SSL_CERT_FILE|\.crt|https?_proxy', line)]
    assert not hits


@pytest.mark.check('build-fails-on-a-config-opencode-refuses')
def test_a_config_opencode_refuses_stops_the_build(opencode_image, tmp_path):
    """The image's config step runs the real opencode: the same context with one field OpenCode refuses fails there,
    naming config.json and the value (every earlier step comes from the layer cache)."""
    config = json.loads((REPO / 'config.json').read_text())
    config['share'] = 'sometimes'
    refused = tmp_path / 'config.json'
    refused.write_text(json.dumps(config))
    log = harness_work_dir() / 'logs' / 'build-refused-config.log'
    options = image_build_options()
    options[options.index('--log') + 1] = str(log)
    tag = 'localhost/opencode-server:refused-config'
    try:
        with pytest.raises(PodmanError):
            build_image(tag, options=[*options, '--config', str(refused)], override_variable='', progress=False)
    finally:
        podman('rmi', '--force', tag, check=False)
    output = log.read_text(errors='replace')
    assert 'config.json (/root/.config/opencode/opencode.json): OpenCode refuses it' in output, output[-2000:]
    assert '"sometimes"' in output, output[-2000:]

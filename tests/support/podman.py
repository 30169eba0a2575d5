"""Podman for the pytest image suites, configured exactly as the Bash harness configures it (tools/harness/lib/engine.sh):
containers.conf and storage.conf under HARNESS_WORK_DIR, so the image that tools/harness/build-image.sh built is the
one these tests run. Everything a test starts is tracked by id and removed by id; nothing is removed by name pattern.

Stable API (other suites build on it):

    IMAGE_TAG                      'localhost/opencode-server:test'
    harness_work_dir() -> Path     HARNESS_WORK_DIR, else ~/.cache/opencode-server-harness
    podman_env() -> dict           os.environ + CONTAINERS_CONF / CONTAINERS_STORAGE_CONF of the working folder
    podman(*args, ...)             runs `podman ARGS` with that environment; CompletedProcess (check=True raises
                                   PodmanError with the command's stderr)
    build_image(tag, options=(), override_variable='OPENCODE_SERVER_IMAGE', progress=True) -> str
                                   runs tools/harness/build-image.sh [OPTIONS] (layer cache kept; e.g. ('--arch',
                                   'arm64'), ('--log', path)); returns the tag. With the override variable set, uses
                                   that image instead and builds nothing.
    OPEN_ON_A_PRIVATE_NETWORK      ('-e', 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1'): the image's opt-out of its password
                                   requirement, for a test whose container nobody else can reach (--network none)
    Podman()                       a tracker: .run(image, *options) -> Container, .volume() -> name,
                                   .pod_create(*options) -> pod id, .cleanup() removes what it made
    Container                      .id .name .exec(*cmd, user=, env=) .logs() .inspect() .stop() .remove() .wait_healthy()
                                   .wait_http_inside(path, status) .port(4096) (published host port)
    opencode_image                 session-scoped pytest fixture: the built image's tag (import it into a conftest),
                                   built with image_build_options() (OPENCODE_SERVER_EXTRA_CA_DIR,
                                   OPENCODE_SERVER_CONTAINERFILE), its output in image_build_log()
    podman_session                 function-scoped pytest fixture: a Podman() cleaned up after the test
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# The image refuses a public bind without a password (scripts/check-secrets). A test container that nobody else can
# reach (--network none, or a test's own throwaway network) takes the image's documented opt-out instead.
OPEN_ON_A_PRIVATE_NETWORK = ('-e', 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1')
BUILD_SCRIPT = REPO / 'tools' / 'harness' / 'build-image.sh'
IMAGE_TAG = 'localhost/opencode-server:test'
IMAGE_OVERRIDE_VARIABLE = 'OPENCODE_SERVER_IMAGE'
BUILD_PROGRESS_VARIABLE = 'OPENCODE_SERVER_BUILD_PROGRESS'
BUILD_TIMEOUT = 3600
COMMAND_TIMEOUT = 120
# podman 4.3's `healthcheck run` does not enforce the check's own --timeout: bound it here.
HEALTHCHECK_RUN_TIMEOUT = 20


class PodmanError(AssertionError):
    """A podman command failed; the message holds the command and its stderr."""


def harness_work_dir() -> Path:
    configured = os.environ.get('HARNESS_WORK_DIR')
    if configured:
        return Path(configured)
    cache = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(cache) / 'opencode-server-harness'


def podman_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    conf_dir = harness_work_dir() / 'podman'
    env = dict(os.environ)
    env['CONTAINERS_CONF'] = str(conf_dir / 'containers.conf')
    env['CONTAINERS_STORAGE_CONF'] = str(conf_dir / 'storage.conf')
    env.update(extra or {})
    return env


def podman(*args: str, check: bool = True, timeout: float = COMMAND_TIMEOUT, input: str | None = None,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`podman ARGS` against the harness's storage; `env` adds variables (for `-e NAME` passed by name)."""
    command = ['podman', *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, input=input,
                            env=podman_env(env), stdin=None if input is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise PodmanError(f'{" ".join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}')
    return result


def podman_available() -> bool:
    return shutil.which('podman') is not None and (harness_work_dir() / 'podman' / 'containers.conf').is_file()


def build_image(tag: str = IMAGE_TAG, options: Sequence[str] = (),
                override_variable: str = IMAGE_OVERRIDE_VARIABLE, progress: bool = True) -> str:
    """The image under test: the image named by the override variable if set (nothing is built), else the committed
    Containerfile built by tools/harness/build-image.sh OPTIONS into the harness's store (installs Podman from Debian
    if needed)."""
    override = os.environ.get(override_variable)
    if override:
        podman('image', 'inspect', override)
        return override
    # With BUILD_PROGRESS_VARIABLE=1 (prove-image.sh, run with --capture=sys) the script's progress lines reach the
    # terminal as they come: a cold build is minutes of otherwise silent waiting. A build meant to fail passes
    # progress=False: its failure is the check's evidence, not news.
    show_progress = progress and os.environ.get(BUILD_PROGRESS_VARIABLE) == '1'
    with subprocess.Popen(['bash', str(BUILD_SCRIPT), '--tag', tag, *options], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=dict(os.environ), stdin=subprocess.DEVNULL) as build:
        timer = threading.Timer(BUILD_TIMEOUT, build.kill)
        timer.start()
        output = []
        for line in build.stderr:
            output.append(line)
            if show_progress:
                sys.__stderr__.write(line)
                sys.__stderr__.flush()
        stdout = build.stdout.read()
        timer.cancel()
    if build.returncode != 0:
        raise PodmanError(f'{BUILD_SCRIPT.name} failed ({build.returncode}):\n{"".join(output)[-4000:]}')
    return stdout.strip().splitlines()[-1]


def _wait(predicate, timeout: float, what: str, interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
            last = value
        except Exception as error:  # what we wait for may not answer yet
            last = error
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what} (last: {last})')


@dataclass
class Container:
    id: str
    name: str

    def exec(self, *command: str, user: str | None = None, check: bool = True, timeout: float = COMMAND_TIMEOUT,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """`podman exec`; `env` variables are set in the exec'd process (passed by name, values never in argv)."""
        options = ['--user', user] if user else []
        for name in env or {}:
            options += ['-e', name]
        return podman('exec', *options, self.id, *command, check=check, timeout=timeout, env=env)

    def logs(self) -> str:
        result = podman('logs', self.id, check=False)
        return result.stdout + result.stderr

    def inspect(self) -> dict[str, Any]:
        return json.loads(podman('inspect', self.id).stdout)[0]

    def running(self) -> bool:
        return bool(self.inspect()['State']['Running'])

    def port(self, container_port: int = 4096) -> int:
        """The host port published for `container_port` (with `-p 127.0.0.1::4096`)."""
        return int(podman('port', self.id, f'{container_port}/tcp').stdout.strip().rsplit(':', 1)[1])

    def http_status_inside(self, path: str) -> str:
        """The status code of GET http://localhost:4096PATH from inside, with the image's own curl ('000': none)."""
        result = self.exec('curl', '-s', '-m', '2', '-o', '/dev/null', '-w', '%{http_code}',
                           f'http://localhost:4096{path}', check=False, timeout=30)
        return result.stdout.strip() or '000'

    def wait_http_inside(self, path: str = '/config', status: str = '200', timeout: float = 120) -> None:
        def answered() -> bool:
            if not self.running():
                raise PodmanError(f'container {self.name} exited; logs:\n{self.logs()[-3000:]}')
            return self.http_status_inside(path) == status

        try:
            _wait(answered, timeout, f'{status} on {path} in {self.name}')
        except PodmanError:
            raise
        except AssertionError as error:
            raise AssertionError(f'{error}\nlogs:\n{self.logs()[-3000:]}') from None

    def wait_healthy(self, timeout: float = 90) -> None:
        """Runs the image's HEALTHCHECK on demand (Podman's timer needs systemd) until it passes and the state
        reads healthy."""
        def passed() -> bool:
            run = podman('healthcheck', 'run', self.id, check=False, timeout=HEALTHCHECK_RUN_TIMEOUT + 5)
            return run.returncode == 0 and self.inspect()['State']['Health']['Status'] == 'healthy'

        try:
            _wait(passed, timeout, f'{self.name} healthy', interval=2)
        except AssertionError as error:
            log = self.inspect()['State'].get('Health', {}).get('Log', [])[-3:]
            raise AssertionError(f'{error}; last health results: {log}') from None

    def stop(self, timeout_seconds: int = 10) -> None:
        podman('stop', '-t', str(timeout_seconds), self.id, check=False, timeout=timeout_seconds + 30)

    def remove(self) -> None:
        # -v: also the anonymous volumes the engine made for the image's VOLUMEs that were not mounted
        podman('rm', '-f', '-v', '-t', '0', self.id, check=False)


@dataclass
class Podman:
    """Tracks what a test creates so that cleanup() removes exactly that, by id."""

    prefix: str = field(default_factory=lambda: f'ocs-test-{uuid.uuid4().hex[:8]}')
    containers: list[Container] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    pods: list[str] = field(default_factory=list)

    def unique_name(self, role: str) -> str:
        return f'{self.prefix}-{role}-{len(self.containers) + len(self.volumes) + len(self.pods)}'

    def run(self, image: str, *options: str, role: str = 'c', command: Sequence[str] = (),
            env: dict[str, str] | None = None) -> Container:
        """`podman run -d --name <unique> OPTIONS IMAGE COMMAND`; `env` values are passed to podman's environment
        so that `-e NAME` (by name) can pick them up without a value on the command line."""
        name = self.unique_name(role)
        result = podman('run', '-d', '--name', name, *options, image, *command, env=env)
        container = Container(result.stdout.strip().splitlines()[-1], name)
        self.containers.append(container)
        return container

    def volume(self, role: str = 'v') -> str:
        name = self.unique_name(role)
        podman('volume', 'create', name)
        self.volumes.append(name)
        return name

    def volume_path(self, name: str) -> Path:
        return Path(json.loads(podman('volume', 'inspect', name).stdout)[0]['Mountpoint'])

    def pod_create(self, *options: str, role: str = 'pod') -> str:
        name = self.unique_name(role)
        pod_id = podman('pod', 'create', '--name', name, *options).stdout.strip().splitlines()[-1]
        self.pods.append(pod_id)
        return pod_id

    def cleanup(self) -> None:
        """Removes what it made; fails when an anonymous volume of its containers (one the engine made for an image
        VOLUME nothing was mounted on) outlived them: a test run must not leave the store growing."""
        anonymous = [volume for container in self.containers for volume in _anonymous_volumes(container)]
        for container in reversed(self.containers):
            container.remove()
        for pod_id in reversed(self.pods):
            podman('pod', 'rm', '-f', pod_id, check=False)
        for name in reversed(self.volumes):
            podman('volume', 'rm', '-f', name, check=False)
        self.containers.clear()
        self.pods.clear()
        self.volumes.clear()
        left = [volume for volume in anonymous if podman('volume', 'exists', volume, check=False).returncode == 0]
        if left:
            raise PodmanError(f'anonymous volumes outlived their containers: {left}')


def _anonymous_volumes(container: Container) -> list[str]:
    """The engine names an anonymous volume with 64 hex digits; a named one is what a test or the pod chose."""
    try:
        mounts = container.inspect().get('Mounts') or []
    except PodmanError:  # already gone
        return []
    return [mount['Name'] for mount in mounts
            if mount.get('Type') == 'volume' and re.fullmatch(r'[0-9a-f]{64}', mount.get('Name', ''))]


def image_build_log() -> Path:
    """Where the session's build of the image under test writes its output (read by the acceptance checks)."""
    return harness_work_dir() / 'logs' / 'build-opencode-server-test.log'


def image_build_options() -> list[str]:
    """What tools/harness/prove-image.sh's options ask of the build, passed to it as variables."""
    options = ['--log', str(image_build_log())]
    if 'OPENCODE_SERVER_EXTRA_CA_DIR' in os.environ:
        options += ['--extra-ca-dir', os.environ['OPENCODE_SERVER_EXTRA_CA_DIR']]
    if os.environ.get('OPENCODE_SERVER_CONTAINERFILE'):
        options += ['--containerfile', os.environ['OPENCODE_SERVER_CONTAINERFILE']]
    return options


@pytest.fixture(scope='session')
def opencode_image() -> str:
    return build_image(options=image_build_options())


@pytest.fixture
def podman_session() -> Iterator[Podman]:
    session = Podman()
    try:
        yield session
    finally:
        session.cleanup()

"""The built image with Podman: OpenCode's state lives on the declared volumes (a session made in one container is listed
by the next one on the same volumes), and the very same image runs as an arbitrary uid of group 0 on a read-only root
(`--user 10001:0 --read-only --tmpfs /tmp`): /config answers, the plugin loads and starts the memory process, sessions
are made, the health check passes. A volume it cannot write is named in one log line and nothing starts."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.podman import Container, OPEN_ON_A_PRIVATE_NETWORK, Podman
from tests.support.podman import podman as podman_command

DATA = '/root/.local/share/opencode'
STATE = '/root/.local/state/opencode'
SPOOL = '/root/.local/share/opencode-memory'
CACHE = '/root/.cache/opencode'
EXIT_CANNOT_WRITE = 73
NON_ROOT_READ_ONLY = ['--user', '10001:0', '--read-only', '--tmpfs', '/tmp']
PLUGIN_URL_PREFIX = 'file:///root/.opencode/plugin/'
# The lock OpenCode takes for its models.dev refresh (its name: a hash of the path it guards, the same in every container).
STALE_LOCK = f'{STATE}/locks/da238d7932336b0fe113fd98d3c9b6160c9fd0c9.lock'


def api(container: Container, method: str, path: str, body: object | None = None) -> object:
    """OpenCode's HTTP API from inside the container, with the image's own curl (no port needs publishing)."""
    command = ['curl', '-sS', '-m', '30', '-f', '-X', method, f'http://localhost:4096{path}']
    if body is not None:
        command += ['-H', 'content-type: application/json', '-d', json.dumps(body)]
    result = container.exec(*command, check=False, timeout=60)
    assert result.returncode == 0, f'{method} {path}: {result.stderr}\n{container.logs()[-2000:]}'
    return json.loads(result.stdout)


def session_titles(container: Container) -> set[str]:
    return {session['title'] for session in api(container, 'GET', '/session')}


def volume_options(volumes: dict[str, str]) -> list[str]:
    return [option for name, path in volumes.items() for option in ('-v', f'{name}:{path}')]


def start_server(podman: Podman, image: str, volumes: dict[str, str], *options: str) -> Container:
    container = podman.run(image, *OPEN_ON_A_PRIVATE_NETWORK, *options, *volume_options(volumes), '--network', 'none',
                           role='opencode')
    container.wait_http_inside('/config', '200', timeout=150)
    return container


def test_state_outlives_the_container_and_the_image_runs_as_any_uid_on_a_read_only_root(
    opencode_image: str, podman_session: Podman
):
    image = podman_session
    declared = json.loads(podman_command('image', 'inspect', '--format', '{{json .Config.Volumes}}', opencode_image).stdout)
    assert set(declared) == {DATA, STATE, SPOOL, CACHE}
    volumes = {image.volume('data'): DATA, image.volume('state'): STATE, image.volume('spool'): SPOOL}

    first = start_server(image, opencode_image, volumes)
    api(first, 'POST', '/session', {'title': 'made in the first container'})
    first.stop()
    first.remove()

    second = start_server(image, opencode_image, volumes)
    assert 'made in the first container' in session_titles(second)
    second.stop()
    second.remove()

    # A lock a root container left when it stopped while holding it (OpenCode makes them 0700): seen in a CI run, where
    # uid 10001 then failed to stat it (EACCES) on its models.dev refresh, which takes this very lock.
    podman_command('run', '--rm', '--network', 'none', '--entrypoint', 'sh', *volume_options(volumes), opencode_image, '-c',
                   f'umask 0002 && mkdir -p {STALE_LOCK} && chmod 0700 {STALE_LOCK} && touch {STALE_LOCK}/heartbeat')
    restricted = start_server(image, opencode_image, volumes, *NON_ROOT_READ_ONLY)
    assert restricted.exec('id', '-u').stdout.strip() == '10001'
    assert restricted.exec('sh', '-c', 'echo $HOME').stdout.strip() == '/root'
    config = api(restricted, 'GET', '/config')
    assert any(entry.startswith(PLUGIN_URL_PREFIX) for entry in config.get('plugin', [])), config.get('plugin')
    assert 'made in the first container' in session_titles(restricted)
    api(restricted, 'POST', '/session', {'title': 'made as uid 10001 on a read-only root'})
    assert {'made in the first container', 'made as uid 10001 on a read-only root'} <= session_titles(restricted)
    restricted.wait_healthy(timeout=120)
    logs = restricted.logs()
    assert '[graphiti-memory] started memory process' in logs, logs[-3000:]
    assert restricted.exec('test', '-e', STALE_LOCK, check=False).returncode != 0, 'the stale lock is still in the way'
    server_log = restricted.exec('sh', '-c', f'cat {DATA}/log/*.log').stdout
    assert 'EROFS' not in server_log and 'EACCES' not in server_log, server_log[-3000:]
    # the root filesystem really is read-only
    assert restricted.exec('touch', '/root/.config/opencode/probe', check=False).returncode != 0
    restricted.stop()
    restricted.remove()

    # another uid of the same group takes over the volumes (the files the first one made are group-writable)
    other = start_server(image, opencode_image, volumes, '--user', '10002:0', '--read-only', '--tmpfs', '/tmp')
    api(other, 'POST', '/session', {'title': 'made as uid 10002'})
    assert {'made in the first container', 'made as uid 10001 on a read-only root', 'made as uid 10002'} <= (
        session_titles(other)
    )


def exited_with_one_line(podman: Podman, image: str, *options: str) -> tuple[int, list[str]]:
    container = podman.run(image, *OPEN_ON_A_PRIVATE_NETWORK, *options, '--network', 'none', role='refused')
    code = int(podman_command('wait', container.id, timeout=120).stdout.strip().splitlines()[-1])
    lines = [line for line in container.logs().splitlines() if line.strip()]
    return code, lines


def test_a_read_only_volume_is_named_in_one_log_line_and_nothing_starts(opencode_image: str, podman_session: Podman):
    data = podman_session.volume('data')
    code, lines = exited_with_one_line(podman_session, opencode_image, *NON_ROOT_READ_ONLY, '-v', f'{data}:{DATA}:ro')
    assert code == EXIT_CANNOT_WRITE
    assert len(lines) == 1, lines
    assert DATA in lines[0] and 'cannot write' in lines[0] and 'uid 10001' in lines[0]
    assert 'Traceback' not in lines[0] and ' at ' not in lines[0]


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root to chown the bind-mounted directory to another uid')
def test_a_volume_owned_by_another_uid_without_group_write_is_named(opencode_image: str, podman_session: Podman,
                                                                     tmp_path: Path):
    foreign = tmp_path / 'spool-of-uid-20000'
    foreign.mkdir()
    os.chown(foreign, 20000, 20000)
    foreign.chmod(0o755)
    code, lines = exited_with_one_line(podman_session, opencode_image, '--user', '10001:0', '-v', f'{foreign}:{SPOOL}')
    assert code == EXIT_CANNOT_WRITE
    assert len(lines) == 1 and SPOOL in lines[0] and f'{DATA} ' not in lines[0], lines

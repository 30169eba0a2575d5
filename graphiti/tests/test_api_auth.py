"""The memory API admits only callers holding its token (issue 10, item 4): a neighbour on the loopback without it
gets 401 and learns nothing; the CLI in the same container finds the token in its private runtime file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opencode_memory import api_token
from tests.support.real_servers import MemoryManager, http_json

MEMORY_MANAGER = Path(__file__).resolve().parents[1] / 'memory_manager.py'
SECRET_FACT = 'Vega stores its payroll in Postgres cluster Orion-7.'
ROUTES = [('GET', '/health', None), ('GET', '/export?group_id=auth', None),
          ('POST', '/search', {'group_id': 'auth', 'query': 'payroll'}),
          ('POST', '/episodes', {'group_id': 'auth', 'content': 'an intruder writes'}),
          ('POST', '/forget', {'group_id': 'auth', 'uuid': 'x'}), ('POST', '/import', {'group_id': 'auth'})]


@pytest.fixture
def runtime_env(memory_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    runtime = tmp_path / 'xdg-runtime'
    runtime.mkdir(mode=0o700)
    return {**memory_env, 'XDG_RUNTIME_DIR': str(runtime)}


@pytest.fixture
def guarded_manager(runtime_env: dict[str, str], tmp_path: Path) -> Iterator[MemoryManager]:
    process = MemoryManager(runtime_env, tmp_path / 'memory-manager.log').start()
    yield process
    process.stop()


def test_requests_without_the_token_or_with_a_wrong_one_get_401_and_nothing_else(guarded_manager: MemoryManager) -> None:
    guarded_manager.add(group_id='auth', content=SECRET_FACT)
    guarded_manager.wait_stored(1)
    status, found = guarded_manager.request('POST', '/search', {'group_id': 'auth', 'query': 'payroll Orion'})
    assert status == 200 and 'Orion' in json.dumps(found), 'the token holder reads its memory'

    wrong = api_token.new_token()
    for method, path, body in ROUTES:
        for token in ('', wrong, guarded_manager.token[:-1], guarded_manager.token + 'x'):
            status, answer = guarded_manager.request(method, path, body, token=token)
            assert (status, answer) == (401, {'error': 'unauthorized'}), (method, path, token == '')
    status, answer = guarded_manager.request('GET', '/health', token='')
    assert status == 401
    # A different scheme with the right secret is refused too: only `Bearer <token>` counts.
    status, _ = http_json('GET', f'{guarded_manager.url}/health', headers={'Authorization': f'Basic {guarded_manager.token}'})
    assert status == 401

    health = guarded_manager.health()
    assert health['stored'] == 1 and health['pending'] == 0, 'the refused POST /episodes queued nothing'
    log = guarded_manager.log_text()
    refusals = [line for line in log.splitlines() if 'refused with 401: no valid memory API token' in line]
    assert len(refusals) == 1, 'refusals are logged at most once a minute'
    assert guarded_manager.token not in log and wrong not in log, 'a token reached the log'


def test_the_cli_finds_the_published_token_which_is_private_and_never_on_a_command_line(
    guarded_manager: MemoryManager, runtime_env: dict[str, str]
) -> None:
    token_file = Path(runtime_env['XDG_RUNTIME_DIR']) / 'opencode-memory' / f'api-token-{guarded_manager.port}'
    assert token_file.read_text() == guarded_manager.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(token_file.parent.stat().st_mode) == 0o700

    pid = guarded_manager.process.pid
    cmdline = Path(f'/proc/{pid}/cmdline').read_bytes().decode(errors='replace')
    assert guarded_manager.token not in cmdline

    # The CLI as a tool in the container runs it: no MEMORY_API_TOKEN, only the published file.
    cli_env = {key: value for key, value in runtime_env.items() if key != 'MEMORY_API_TOKEN'}
    result = subprocess.run([sys.executable, str(MEMORY_MANAGER), 'health'], env=cli_env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and '"status": "ok"' in result.stdout, result.stdout + result.stderr
    assert guarded_manager.token not in result.stdout + result.stderr

    # Without the file (another container: shared loopback, separate file system) the CLI is refused.
    elsewhere = {**cli_env, 'XDG_RUNTIME_DIR': str(token_file.parent.parent.parent)}
    result = subprocess.run([sys.executable, str(MEMORY_MANAGER), 'health'], env=elsewhere, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1 and 'unauthorized' in result.stdout

    guarded_manager.stop()
    assert not token_file.exists(), 'the token file outlived its server'


def test_a_token_file_others_could_read_is_not_trusted(tmp_path: Path) -> None:
    environ = {'XDG_RUNTIME_DIR': str(tmp_path)}
    path = api_token.publish('t' * 40, 4242, environ)
    assert path is not None and api_token.read_published(4242, environ) == 't' * 40
    os.chmod(path, 0o644)
    assert api_token.read_published(4242, environ) is None
    os.chmod(path, 0o600)
    os.chmod(path.parent, 0o755)
    assert api_token.read_published(4242, environ) is None
    # publish refuses to use a directory that is not private rather than loosen or trust it
    assert api_token.publish('u' * 40, 4243, environ) is None


def test_authorized_accepts_only_the_exact_bearer_token() -> None:
    token = api_token.new_token()
    assert api_token.authorized(f'Bearer {token}', token)
    assert api_token.authorized(f'bearer {token}', token)
    for header in (None, '', token, f'Bearer {token[:-1]}', f'Bearer {token}0', f'Basic {token}', 'Bearer ', 'Bearer é'):
        assert not api_token.authorized(header, token), header


def test_the_server_drops_a_short_token_and_takes_the_token_out_of_its_environment() -> None:
    environ = {'MEMORY_API_TOKEN': 'short'}
    token = api_token.server_token(environ)
    assert token != 'short' and len(token) >= api_token.MIN_TOKEN_CHARS and 'MEMORY_API_TOKEN' not in environ
    long_one = 'k' * 43
    environ = {'MEMORY_API_TOKEN': long_one}
    assert api_token.server_token(environ) == long_one and environ == {}


def test_proof_answers_a_nonce_with_the_tokens_hmac_and_nothing_else(guarded_manager: MemoryManager) -> None:
    nonce = 'ab' * 16
    status, answer = guarded_manager.request('GET', f'/proof?nonce={nonce}', token='')
    assert status == 200 and answer == {'proof': api_token.proof(guarded_manager.token, nonce)}
    assert guarded_manager.token not in json.dumps(answer)
    for bad in ('', 'xyz', 'ab' * 8, 'ab' * 80):
        status, _ = guarded_manager.request('GET', f'/proof?nonce={bad}', token='')
        assert status == 400, bad

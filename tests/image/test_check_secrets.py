"""scripts/check-secrets, the entrypoint's first link, run as the image runs it (python3, before the server): closed by
default on a public bind, NAME or NAME_FILE for every secret, bad input as one line naming the variable and exit 78,
and each secret handed on only as far as its reader. The image test (test_secure_defaults.py) runs it in Podman."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'scripts' / 'check-secrets'
SERVE = ['opencode', 'serve', '--hostname', '0.0.0.0', '--port', '4096']
# Stands in for the rest of the chain: prints the environment it was given, as JSON, then the command line it had.
PRINT_ENV = [sys.executable, '-c', 'import json, os, sys; print(json.dumps(dict(os.environ))); print(sys.argv[1:])']


def run(env: dict[str, str], command: list[str] = SERVE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *PRINT_ENV, *command], env={'PATH': os.environ['PATH'], **env},
                          capture_output=True, text=True, timeout=30)


def handed_on(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[0])


def refused(result: subprocess.CompletedProcess[str], *named: str) -> str:
    assert result.returncode == 78, (result.returncode, result.stdout, result.stderr)
    assert result.stdout == '', 'the server started anyway'
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for name in named:
        assert name in lines[0], (name, lines[0])
    return lines[0]


@pytest.mark.parametrize('hostname', [['--hostname', '0.0.0.0'], ['--hostname=0.0.0.0'], ['--hostname', '::'],
                                      ['--hostname', '10.1.2.3']])
def test_a_public_bind_without_a_password_does_not_start(hostname: list[str]) -> None:
    line = refused(run({}, ['opencode', 'serve', *hostname]), 'OPENCODE_SERVER_PASSWORD',
                   'OPENCODE_SERVER_PASSWORD_FILE', 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1')
    assert line.startswith('opencode-server: refusing to serve on ')


def test_an_empty_password_variable_counts_as_none() -> None:
    # `podman run -e OPENCODE_SERVER_PASSWORD ...` passes an empty value when the caller's shell lacks the variable
    refused(run({'OPENCODE_SERVER_PASSWORD': ''}), 'OPENCODE_SERVER_PASSWORD')


def test_the_opt_out_and_a_loopback_bind_start_without_a_password() -> None:
    handed_on(run({'OPENCODE_SERVER_ALLOW_NO_PASSWORD': '1'}))
    handed_on(run({}, ['opencode', 'serve', '--hostname', '127.0.0.1']))
    handed_on(run({}, ['opencode', 'serve']))  # opencode serve's own default is 127.0.0.1
    handed_on(run({}, ['/app/scripts/backup-sidecar']))  # not a server


def test_a_password_file_becomes_the_variable_opencode_reads(tmp_path: Path) -> None:
    (tmp_path / 'password').write_text('s3cret-from-file\n')
    env = handed_on(run({'OPENCODE_SERVER_PASSWORD_FILE': str(tmp_path / 'password')}))
    assert env['OPENCODE_SERVER_PASSWORD'] == 's3cret-from-file'
    assert 'OPENCODE_SERVER_PASSWORD_FILE' not in env


def test_a_provider_key_file_becomes_its_variable(tmp_path: Path) -> None:
    (tmp_path / 'key').write_text('sk-provider-key-value')
    env = handed_on(run({'OPENCODE_SERVER_ALLOW_NO_PASSWORD': '1', 'ANTHROPIC_API_KEY_FILE': str(tmp_path / 'key')}))
    assert env['ANTHROPIC_API_KEY'] == 'sk-provider-key-value' and 'ANTHROPIC_API_KEY_FILE' not in env


def test_memory_passwords_reach_the_server_only_as_private_files() -> None:
    env = handed_on(run({'OPENCODE_SERVER_PASSWORD': 'pw-value-1', 'FALKORDB_PASSWORD': 'falkor-value-2',
                         'VALKEY_PASSWORD': 'valkey-value-3'}))
    assert 'FALKORDB_PASSWORD' not in env and 'VALKEY_PASSWORD' not in env
    for name, value in (('FALKORDB_PASSWORD_FILE', 'falkor-value-2'), ('VALKEY_PASSWORD_FILE', 'valkey-value-3')):
        path = Path(env[name])
        assert path.read_text() == value
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert not path.parent.is_symlink()
    assert 'falkor-value-2' not in json.dumps(env) and 'valkey-value-3' not in json.dumps(env)
    Path(env['FALKORDB_PASSWORD_FILE']).unlink()
    Path(env['VALKEY_PASSWORD_FILE']).unlink()
    Path(env['VALKEY_PASSWORD_FILE']).parent.rmdir()


def test_memory_password_files_are_passed_through_as_given(tmp_path: Path) -> None:
    (tmp_path / 'falkordb-password').write_text('falkor')
    env = handed_on(run({'OPENCODE_SERVER_ALLOW_NO_PASSWORD': '1',
                         'FALKORDB_PASSWORD_FILE': str(tmp_path / 'falkordb-password')}))
    assert env['FALKORDB_PASSWORD_FILE'] == str(tmp_path / 'falkordb-password') and 'FALKORDB_PASSWORD' not in env


def test_backup_and_datadog_keys_do_not_reach_the_server(tmp_path: Path) -> None:
    (tmp_path / 'age').write_text('AGE-SECRET-KEY-1EXAMPLE')
    env = handed_on(run({'OPENCODE_SERVER_PASSWORD': 'pw', 'DD_API_KEY': 'dd-key', 'B2_APPLICATION_KEY': 'b2-key',
                         'B2_APPLICATION_KEY_ID': 'b2-id', 'BACKUP_ENCRYPTION_KEY_FILE': str(tmp_path / 'age')}))
    for name in ('DD_API_KEY', 'B2_APPLICATION_KEY', 'B2_APPLICATION_KEY_ID', 'BACKUP_ENCRYPTION_KEY',
                 'BACKUP_ENCRYPTION_KEY_FILE'):
        assert name not in env, name


def test_a_secret_given_both_ways_is_refused_without_its_value(tmp_path: Path) -> None:
    (tmp_path / 'password').write_text('file-value-never-printed')
    result = run({'OPENCODE_SERVER_PASSWORD': 'env-value-never-printed',
                  'OPENCODE_SERVER_PASSWORD_FILE': str(tmp_path / 'password')})
    line = refused(result, 'OPENCODE_SERVER_PASSWORD and OPENCODE_SERVER_PASSWORD_FILE are both set')
    assert 'never-printed' not in line


@pytest.mark.parametrize('problem', ['missing', 'empty', 'blank', 'directory', 'set-but-empty'])
def test_a_secret_file_that_cannot_be_used_is_refused_naming_the_variable(tmp_path: Path, problem: str) -> None:
    path = tmp_path / 'valkey-password'
    if problem == 'empty':
        path.write_text('')
    elif problem == 'blank':
        path.write_text('\n\n')
    elif problem == 'directory':
        path.mkdir()
    value = '' if problem == 'set-but-empty' else str(path)
    line = refused(run({'OPENCODE_SERVER_PASSWORD': 'pw', 'VALKEY_PASSWORD_FILE': value}), 'VALKEY_PASSWORD_FILE')
    assert {'missing': 'does not exist', 'empty': 'is empty', 'blank': 'is empty', 'directory': 'cannot read',
            'set-but-empty': 'is set but empty'}[problem] in line

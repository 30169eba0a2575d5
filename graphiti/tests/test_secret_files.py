"""The memory process takes the FalkorDB and Valkey passwords (and the model key) as NAME or NAME_FILE: the image hands
them on as files (scripts/check-secrets). Bad input is one line naming the variable, never its value, and exit 78."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.real_servers import MemoryManager, falkordb_server, memory_manager_env, valkey_stand_in, wait_until

from conftest import EMBEDDING_DIM

REPO = Path(__file__).resolve().parents[2]


def test_passwords_given_as_files_reach_falkordb_and_valkey(tmp_path: Path, openai_double) -> None:
    falkordb = falkordb_server(tmp_path / 'falkordb', password='falkor-file-secret').start()
    valkey = valkey_stand_in(tmp_path / 'valkey', password='valkey-file-secret').start()
    try:
        (tmp_path / 'falkordb-password').write_text('falkor-file-secret\n')
        (tmp_path / 'valkey-password').write_text('valkey-file-secret\n')
        env = memory_manager_env(falkordb_port=falkordb.port, valkey_port=valkey.port,
                                 openai_base_url=openai_double.base_url, embedding_dim=EMBEDDING_DIM,
                                 FALKORDB_PASSWORD_FILE=str(tmp_path / 'falkordb-password'),
                                 VALKEY_PASSWORD_FILE=str(tmp_path / 'valkey-password'))
        manager = MemoryManager(env, tmp_path / 'memory.log').start()
        try:
            # the first check may come while the connection is still being made (a busy machine): wait for both
            wait_until(lambda: (health := manager.health())['falkordb'] and health['valkey'], 30,
                       'FalkorDB and Valkey reached with the passwords from files')
        finally:
            manager.stop()
        assert 'file-secret' not in manager.log_text()
    finally:
        valkey.stop()
        falkordb.stop()


def run_cli(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / 'graphiti' / 'memory_manager.py'), 'health'],
                          env=env, capture_output=True, text=True, timeout=60)


def test_a_password_given_both_ways_or_an_unreadable_file_is_one_line_and_exit_78(tmp_path: Path) -> None:
    base = {'PATH': '/usr/bin:/bin', 'HOME': str(tmp_path)}
    (tmp_path / 'empty').write_text('\n')
    cases = {
        'FALKORDB_PASSWORD and FALKORDB_PASSWORD_FILE are both set': {
            'FALKORDB_PASSWORD': 'value-never-printed', 'FALKORDB_PASSWORD_FILE': str(tmp_path / 'empty')},
        'VALKEY_PASSWORD_FILE names': {'VALKEY_PASSWORD_FILE': str(tmp_path / 'missing')},
        'which is empty': {'FALKORDB_PASSWORD_FILE': str(tmp_path / 'empty')},
    }
    for expected, extra in cases.items():
        result = run_cli({**base, **extra})
        assert result.returncode == 78, (expected, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (expected, result.stderr)
        assert 'value-never-printed' not in result.stderr + result.stdout

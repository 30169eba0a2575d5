"""scripts/check-state-dirs, run as the image runs it before the server: the state it hands group 0 for a uid takeover
never loosens the login files (auth.json, mcp-auth.json stay 0600) and leaves nothing to other users; the database it
creates is 0660 (its -wal/-shm take its mode). Runs the script itself on this machine; test_state_volumes.py runs the
takeover in Podman."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / 'scripts' / 'check-state-dirs'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def run_check(home: Path, state_dirs: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {'PATH': os.environ['PATH'], 'HOME': str(home), 'OPENCODE_SERVER_STATE_DIRS': ':'.join(map(str, state_dirs))}
    return subprocess.run(['sh', str(SCRIPT), 'true'], env=env, capture_output=True, text=True, timeout=60)


def test_login_files_stay_0600_and_other_state_is_closed_to_others(tmp_path: Path) -> None:
    data = tmp_path / '.local' / 'share' / 'opencode'
    data.mkdir(parents=True)
    for name, initial in (('auth.json', 0o600), ('mcp-auth.json', 0o600), ('storage.json', 0o644)):
        (data / name).write_text('{}')
        (data / name).chmod(initial)
    (data / 'storage').mkdir(mode=0o755)
    (data / 'storage').chmod(0o755)

    result = run_check(tmp_path, [data])
    assert result.returncode == 0, result.stderr

    assert mode(data / 'auth.json') == 0o600
    assert mode(data / 'mcp-auth.json') == 0o600
    assert mode(data / 'storage.json') == 0o660
    assert mode(data / 'storage') == 0o770
    assert mode(data / 'opencode.db') == 0o660, 'the database it creates is closed to others'


def test_a_login_file_someone_loosened_is_closed_again(tmp_path: Path) -> None:
    data = tmp_path / '.local' / 'share' / 'opencode'
    data.mkdir(parents=True)
    (data / 'auth.json').write_text('{}')
    (data / 'auth.json').chmod(0o664)
    assert run_check(tmp_path, [data]).returncode == 0
    assert mode(data / 'auth.json') == 0o600

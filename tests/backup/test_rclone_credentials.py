"""An rclone connection string in BACKUP_RCLONE_REMOTE (`:backend,account=…,key=…:path`) never reaches rclone's command
line (visible to every process) nor the log (issue 18, part 6): the credentials go to the rclone child as
RCLONE_CONFIG_* variables, and every message shows `account=***,key=***`."""
import json
import os
import stat
import sys

from .conftest import run_cli
from .helpers import backup_folders_on_disk, fill

ACCOUNT = "0051a2b3c4d5e6f-account-planted"
KEY = "K005planted+secret/Key=value"


def _recording_rclone(directory):
    """A `rclone` first on PATH that records its argv and the RCLONE_CONFIG_* it got, then runs the real one."""
    real = next(
        os.path.join(folder, "rclone")
        for folder in os.environ["PATH"].split(os.pathsep)
        if os.access(os.path.join(folder, "rclone"), os.X_OK)
    )
    record = directory / "calls.jsonl"
    wrapper = directory / "rclone"
    wrapper.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(record)!r}, 'a') as out:\n"
        "    out.write(json.dumps({'argv': sys.argv, 'env': {k: v for k, v in os.environ.items()"
        " if k.startswith('RCLONE_CONFIG_')}}) + '\\n')\n"
        f"os.execv({real!r}, [{real!r}, *sys.argv[1:]])\n"
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return record


def _connection_string(root) -> str:
    # rclone's quoting: a value with ',' or ':' would need quotes; '+', '/' and '=' do not
    return f":local,account={ACCOUNT},key='{KEY}':{root}"


def test_credentials_reach_rclone_only_through_its_environment_rclone_local_remote(
    backup_env, rclone_local_remote, monkeypatch, tmp_path
):
    fill(backup_env)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = _recording_rclone(bin_dir)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BACKUP_RCLONE_REMOTE", _connection_string(rclone_local_remote))
    result = run_cli("backup", "--only", "valkey")
    assert result.returncode == 0, result.stderr
    assert backup_folders_on_disk(rclone_local_remote)  # it did reach the remote
    calls = [json.loads(line) for line in record.read_text().splitlines()]
    assert calls
    for call in calls:
        assert not any(ACCOUNT in arg or KEY in arg for arg in call["argv"]), call["argv"]
        if call["argv"][1:2] != ["version"]:
            assert call["env"]["RCLONE_CONFIG_OPENCODEBACKUP_ACCOUNT"] == ACCOUNT
            assert call["env"]["RCLONE_CONFIG_OPENCODEBACKUP_KEY"] == KEY
    assert ACCOUNT not in result.stdout + result.stderr and KEY not in result.stdout + result.stderr


def test_a_failing_connection_string_remote_is_logged_with_its_credentials_redacted_rclone_local_remote(
    backup_env, rclone_local_remote, monkeypatch, tmp_path
):
    missing = tmp_path / "no-such-bucket"
    monkeypatch.setenv("BACKUP_RCLONE_REMOTE", _connection_string(missing))
    result = run_cli("backup")
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert f"rclone remote :local,account=***,key=***:{missing} does not exist" in line, line
    assert ACCOUNT not in result.stdout + result.stderr and KEY not in result.stdout + result.stderr

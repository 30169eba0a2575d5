"""Every backup secret may come from NAME_FILE (issue 18 / coord convention): a doubled, missing, empty or unreadable
one is one line naming the variable, exit 78, nothing touched; a value read from a file is redacted like one from
the environment."""
import os

import pytest

from backup_lib import backup_cli, restore_cli
from backup_lib.errors import ConfigError
from backup_lib.redaction import redact
from backup_lib.secret_env import read_secret

from .conftest import BACKUP_KEY, FALKORDB_PASSWORD, run_cli
from .helpers import backup_folders_on_disk, current_state, fill, wipe

EXIT_CONFIG = 78


def test_read_secret_from_file_strips_the_newline_and_registers_it_for_redaction(tmp_path):
    secret_file = tmp_path / "b2-application-key"
    secret_file.write_text("K005-from-a-file-7731\n")
    assert read_secret({"B2_APPLICATION_KEY_FILE": str(secret_file)}, "B2_APPLICATION_KEY") == "K005-from-a-file-7731"
    assert redact("auth failed for K005-from-a-file-7731", {}) == "auth failed for ***"
    assert read_secret({}, "B2_APPLICATION_KEY") is None


@pytest.mark.parametrize("case", ["both set", "missing file", "empty file", "a directory", "empty _FILE"])
def test_read_secret_refuses_in_one_line_naming_the_variable(tmp_path, case):
    secret_file = tmp_path / "valkey-password"
    secret_file.write_text("pw-in-file-0042")
    environ = {
        "both set": {"VALKEY_PASSWORD": "pw-in-env-0042", "VALKEY_PASSWORD_FILE": str(secret_file)},
        "missing file": {"VALKEY_PASSWORD_FILE": str(tmp_path / "absent")},
        "empty file": {"VALKEY_PASSWORD_FILE": str(tmp_path / "empty")},
        "a directory": {"VALKEY_PASSWORD_FILE": str(tmp_path)},
        "empty _FILE": {"VALKEY_PASSWORD_FILE": ""},
    }[case]
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError) as raised:
        read_secret(environ, "VALKEY_PASSWORD")
    message = str(raised.value)
    assert "VALKEY_PASSWORD" in message and "\n" not in message
    assert "pw-in-file-0042" not in message and "pw-in-env-0042" not in message


def test_b2_keys_and_backup_key_from_files_round_trip_b2sdk_raw_simulator(backup_env, b2_simulator, monkeypatch, tmp_path):
    servers = backup_env
    before = fill(servers)
    for name in ("B2_APPLICATION_KEY_ID", "B2_APPLICATION_KEY", "BACKUP_ENCRYPTION_KEY", "FALKORDB_PASSWORD"):
        path = tmp_path / name.lower()
        path.write_text(os.environ[name] + "\n")
        monkeypatch.delenv(name)
        monkeypatch.setenv(f"{name}_FILE", str(path))
    # an age-keygen file, comments and all
    (tmp_path / "backup_encryption_key").write_text(f"# created: 2026-12-03\n# public key: age1…\n{BACKUP_KEY}\n")
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 0
    wipe(servers)
    assert restore_cli.main([], b2_api_factory=b2_simulator.factory) == 0
    assert current_state(servers) == before


def test_wrong_b2_key_from_a_file_is_not_printed_b2sdk_raw_simulator(backup_env, b2_simulator, monkeypatch, tmp_path, capsys):
    wrong = tmp_path / "b2-application-key"
    wrong.write_text("K005-wrong-key-from-file-991\n")
    monkeypatch.delenv("B2_APPLICATION_KEY")
    monkeypatch.setenv("B2_APPLICATION_KEY_FILE", str(wrong))
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 1
    output = capsys.readouterr()
    assert "B2 refused the application key" in output.err
    assert "K005-wrong-key-from-file-991" not in output.out + output.err


@pytest.mark.parametrize("name", ["FALKORDB_PASSWORD", "BACKUP_ENCRYPTION_KEY", "BACKUP_RCLONE_REMOTE"])
def test_a_secret_set_twice_stops_backup_and_restore_before_anything_rclone_local_remote(
    backup_env, rclone_local_remote, tmp_path, name
):
    servers = backup_env
    fill(servers)
    doubled = tmp_path / "doubled"
    doubled.write_text("whatever\n")
    env = dict(os.environ, **{f"{name}_FILE": str(doubled)})
    for command in (["backup"], ["restore", "--wipe"]):
        result = run_cli(*command, env=env)
        assert result.returncode == EXIT_CONFIG, result.stderr
        [line] = result.stderr.splitlines()
        assert f"{name} and {name}_FILE are both set" in line
        assert FALKORDB_PASSWORD not in line and BACKUP_KEY not in line
    assert backup_folders_on_disk(rclone_local_remote) == []
    assert servers.valkey.client().dbsize() > 0

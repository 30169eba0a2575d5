"""Backups are encrypted before they leave (issue 18, part 4): every object on the remote is an age file that holds
none of the memory's text; restore without the key or with another one is refused in one line and touches nothing;
a missing or malformed key stops the backup before anything is read or written (exit 78); key rotation works."""
import falkordb
import pytest

from backup_lib import backup_cli, restore_cli
from backup_lib.encryption import new_key_text

from .conftest import BACKUP_KEY, run_cli
from .helpers import backup_folders_on_disk, current_state, fill, wipe

EXIT_CONFIG = 78
AGE_HEADER = b"age-encryption.org/v1\n"
# what a careless user pastes into a chat turn: it reaches the graph (a fact) and the queue (an episode)
PLANTED_SECRET = "sk-live-9f3c2a7e81d04b6f95e2c8a1d7b3f4e6a0c9b8d7"


def _plant(servers) -> None:
    graph = falkordb.FalkorDB(host="127.0.0.1", port=servers.falkordb.port, password=servers.falkordb.password)
    graph.select_graph("project-alpha").query(
        "CREATE (:Episodic {uuid: 'planted', group_id: 'project-alpha', content: $content})",
        {"content": f"user: my OpenAI key is {PLANTED_SECRET}"},
    )
    servers.valkey.client().xadd("memory:episodes", {"content": f"my OpenAI key is {PLANTED_SECRET}"})


def _stored_objects(root):
    return sorted(path for path in root.rglob("*") if path.is_file())


def _one_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def test_every_object_on_the_remote_is_age_and_holds_no_planted_text_rclone_local_remote(backup_env, rclone_local_remote):
    fill(backup_env)
    _plant(backup_env)
    result = run_cli("backup")
    assert result.returncode == 0, result.stderr
    objects = _stored_objects(rclone_local_remote)
    assert len(objects) >= 5
    for stored in objects:
        data = stored.read_bytes()
        assert stored.name.endswith(".age") and data.startswith(AGE_HEADER), stored
        for needle in (PLANTED_SECRET.encode(), b"remember fact number", b"project-alpha", b"REDIS"):
            assert needle not in data, (stored, needle)


def test_restore_without_a_key_is_refused_in_one_line_and_touches_nothing_rclone_local_remote(
    backup_env, rclone_local_remote, monkeypatch
):
    servers = backup_env
    fill(servers)
    assert run_cli("backup").returncode == 0
    wipe(servers)
    monkeypatch.delenv("BACKUP_ENCRYPTION_KEY")
    result = run_cli("restore", "--wipe")
    assert result.returncode == EXIT_CONFIG
    line = _one_line(result.stderr)
    assert "BACKUP_ENCRYPTION_KEY" in line and "not set" in line
    assert servers.falkordb.client().dbsize() == 0 and servers.valkey.client().dbsize() == 0


@pytest.mark.parametrize("explicit", [False, True])
def test_restore_with_another_key_is_refused_in_one_line_and_touches_nothing_rclone_local_remote(
    backup_env, rclone_local_remote, monkeypatch, explicit
):
    servers = backup_env
    fill(servers)
    assert run_cli("backup").returncode == 0
    [folder] = backup_folders_on_disk(rclone_local_remote)
    servers.valkey.client().set("sentinel", "untouched")
    other_key = new_key_text().splitlines()[-1]
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", other_key)
    result = run_cli("restore", "--wipe", *(["--backup", folder.name] if explicit else []))
    assert result.returncode == 1
    line = _one_line(result.stderr)
    if explicit:
        assert f"backup {folder.name}" in line and "does not decrypt with BACKUP_ENCRYPTION_KEY" in line
    else:
        assert "no complete backup" in line and "BACKUP_ENCRYPTION_KEY" in line
    assert other_key not in result.stdout + result.stderr and BACKUP_KEY not in result.stdout + result.stderr
    assert servers.valkey.client().get("sentinel") == b"untouched"  # --wipe never ran
    assert servers.falkordb.client().dbsize() > 0


@pytest.mark.parametrize(
    "setting, value, expected",
    [
        ("BACKUP_ENCRYPTION_KEY", None, "BACKUP_ENCRYPTION_KEY (or BACKUP_ENCRYPTION_KEY_FILE) is not set"),
        ("BACKUP_ENCRYPTION_KEY", "AGE-SECRET-KEY-1QQQQ", "BACKUP_ENCRYPTION_KEY is not an age X25519 identity"),
        ("BACKUP_ENCRYPTION_KEY", "correct horse battery staple", "BACKUP_ENCRYPTION_KEY is not an age X25519 identity"),
        ("BACKUP_ENCRYPTION_OLD_KEYS", "AGE-SECRET-KEY-1QQQQ", "BACKUP_ENCRYPTION_OLD_KEYS is not an age X25519"),
    ],
)
def test_backup_with_a_missing_or_malformed_key_refuses_before_touching_anything_rclone_local_remote(
    backup_env, rclone_local_remote, monkeypatch, setting, value, expected
):
    fill(backup_env)
    if value is None:
        monkeypatch.delenv(setting)
    else:
        monkeypatch.setenv(setting, value)
    result = run_cli("backup")
    assert result.returncode == EXIT_CONFIG
    line = _one_line(result.stderr)
    assert expected in line, line
    if value is not None:
        assert value not in result.stdout + result.stderr
    assert _stored_objects(rclone_local_remote) == []


def test_rotation_old_key_restores_only_and_newest_backup_uses_the_new_key_b2sdk_raw_simulator(
    backup_env, b2_simulator, monkeypatch, capsys
):
    servers = backup_env
    before = fill(servers)
    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    capsys.readouterr()
    assert restore_cli.main(["--list"], b2_api_factory=b2_simulator.factory) == 0
    [first] = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]

    # rotation: the current key becomes an old key, a new one is current
    new_key = new_key_text()
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", new_key)
    monkeypatch.setenv("BACKUP_ENCRYPTION_OLD_KEYS", f"# rotated out\n{BACKUP_KEY}\n")
    servers.valkey.client().set("after-rotation", "yes")
    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    capsys.readouterr()
    assert restore_cli.main(["--list"], b2_api_factory=b2_simulator.factory) == 0
    listing = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [(row[0] == first, row[1]) for row in listing] == [(True, "complete"), (False, "complete")]

    wipe(servers)
    assert restore_cli.main(["--only", "valkey", "--backup", first], b2_api_factory=b2_simulator.factory) == 0
    assert current_state(servers)[1] == before[1]  # the backup made with the old key
    wipe(servers)
    assert restore_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    assert servers.valkey.client().get("after-rotation") == b"yes"  # the default is the newest, with the new key

    # the old key only reads: once it is dropped, its backups are no longer restorable (nor the newest by default)
    monkeypatch.delenv("BACKUP_ENCRYPTION_OLD_KEYS")
    capsys.readouterr()
    assert restore_cli.main(["--only", "valkey", "--backup", first, "--replace"], b2_api_factory=b2_simulator.factory) == 1
    assert "does not decrypt" in capsys.readouterr().err

"""Each failure gives a clear error, a non-zero exit, no secret in the output, and never a manifest."""
import pytest

from backup_lib import backup_cli, restore_cli

from .conftest import FALKORDB_PASSWORD, VALKEY_PASSWORD, run_cli
from .helpers import backup_folders_on_disk, fill, manifest_on_disk, wipe, write_manifest_on_disk


def _manifests(names: list[str]) -> list[str]:
    return [name for name in names if name.endswith("/manifest.json.age")]


def test_wrong_credentials_b2sdk_raw_simulator(backup_env, b2_simulator, monkeypatch, capsys):
    fill(backup_env)
    wrong_key = "wrong-application-key-0123"
    monkeypatch.setenv("B2_APPLICATION_KEY", wrong_key)
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 1
    output = capsys.readouterr()
    assert "B2 refused the application key" in output.err
    assert wrong_key not in output.out + output.err
    assert b2_simulator.stored_names() == []


def test_missing_bucket_b2sdk_raw_simulator(backup_env, b2_simulator, monkeypatch, capsys):
    monkeypatch.setenv("B2_BUCKET", "no-such-bucket")
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 1
    assert "bucket 'no-such-bucket' does not exist" in capsys.readouterr().err
    assert restore_cli.main([], b2_api_factory=b2_simulator.factory) == 1


def test_missing_bucket_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch, tmp_path):
    missing = tmp_path / "no-such-bucket"
    monkeypatch.setenv("BACKUP_RCLONE_REMOTE", f"backupdisk:{missing}")
    result = run_cli("backup")
    assert result.returncode == 1
    assert "does not exist: create the bucket or folder first" in result.stderr
    assert not missing.exists()  # rclone did not quietly create it


def test_wrong_server_password_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch):
    wrong_password = "not-the-valkey-password-42"
    monkeypatch.setenv("VALKEY_PASSWORD", wrong_password)
    result = run_cli("backup")
    assert result.returncode == 1
    assert f"valkey: cannot reach 127.0.0.1:{backup_env.valkey.port}" in result.stderr
    assert wrong_password not in result.stdout + result.stderr
    assert VALKEY_PASSWORD not in result.stdout + result.stderr
    assert backup_folders_on_disk(rclone_local_remote) == []


def test_upload_cut_off_b2sdk_raw_simulator(backup_env, b2_simulator, capsys):
    fill(backup_env)
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 0  # an earlier, complete backup
    complete_manifests = _manifests(b2_simulator.stored_names())
    # the connection dies after a few uploads: the FalkorDB RDB (a multi-part large file here) is cut mid-way
    b2_simulator.raw.uploads_before_cut = 4
    assert backup_cli.main(["--no-prune"], b2_api_factory=b2_simulator.factory) == 1
    error = capsys.readouterr().err
    assert "upload of" in error and "failed" in error
    assert _manifests(b2_simulator.stored_names()) == complete_manifests  # the cut backup is not marked complete

    b2_simulator.raw.uploads_before_cut = None
    assert restore_cli.main(["--list"], b2_api_factory=b2_simulator.factory) == 0
    listing = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1] for line in listing] == ["complete", "incomplete"]
    incomplete = listing[1].split("\t")[0]
    assert restore_cli.main(["--backup", incomplete], b2_api_factory=b2_simulator.factory) == 1
    assert "incomplete (no manifest)" in capsys.readouterr().err
    # the newest complete backup is still what a plain restore picks
    wipe(backup_env)
    assert restore_cli.main([], b2_api_factory=b2_simulator.factory) == 0


def test_upload_cut_off_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch):
    fill(backup_env)
    # rclone's own hard cut-off: the transfer stops mid-file once 4 KiB have gone (the FalkorDB RDB is larger)
    monkeypatch.setenv("RCLONE_MAX_TRANSFER", "4K")
    monkeypatch.setenv("RCLONE_CUTOFF_MODE", "hard")
    result = run_cli("backup")
    assert result.returncode == 1
    assert "rclone copyto failed" in result.stderr and "max transfer" in result.stderr
    [folder] = backup_folders_on_disk(rclone_local_remote)
    assert not (folder / "manifest.json.age").exists()
    assert not (folder / "falkordb" / "dump.rdb.age").exists()


def test_corrupted_object_refused_b2sdk_raw_simulator(backup_env, b2_simulator, capsys):
    servers = backup_env
    fill(servers)
    assert backup_cli.main([], b2_api_factory=b2_simulator.factory) == 0
    [rdb_name] = [name for name in b2_simulator.stored_names() if name.endswith("falkordb/dump.rdb.age")]
    stored = b2_simulator.file_simulator(rdb_name)
    corrupted = bytearray(stored.data_bytes)
    corrupted[len(corrupted) // 2] ^= 0x01
    stored.data_bytes = bytes(corrupted)
    servers.falkordb.client().flushall()
    servers.valkey.client().set("sentinel", "untouched")

    assert restore_cli.main(["--wipe"], b2_api_factory=b2_simulator.factory) == 1
    error = capsys.readouterr().err
    assert "falkordb/dump.rdb does not match the manifest" in error and "nothing was restored" in error
    assert servers.falkordb.client().dbsize() == 0
    assert servers.valkey.client().get("sentinel") == b"untouched"  # --wipe never ran


def test_corrupted_object_refused_rclone_local_remote(backup_env, rclone_local_remote):
    servers = backup_env
    fill(servers)
    assert run_cli("backup").returncode == 0
    [folder] = backup_folders_on_disk(rclone_local_remote)
    key_file = folder / "valkey" / "keys.jsonl.gz.age"
    data = bytearray(key_file.read_bytes())
    data[-3] ^= 0xFF
    key_file.write_bytes(bytes(data))
    wipe(servers)

    result = run_cli("restore")
    assert result.returncode == 1
    assert "valkey/keys.jsonl.gz does not match the manifest" in result.stderr
    assert servers.valkey.client().dbsize() == 0 and servers.falkordb.client().dbsize() == 0


def test_memory_manager_missing_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch, tmp_path):
    fill(backup_env)
    monkeypatch.setenv("MEMORY_MANAGER", str(tmp_path / "absent" / "memory_manager.py"))
    result = run_cli("backup", "--only", "falkordb,valkey,graphiti")
    assert result.returncode == 1
    assert "memory manager" in result.stderr and "missing" in result.stderr
    assert all(not (folder / "manifest.json.age").exists() for folder in backup_folders_on_disk(rclone_local_remote))
    assert FALKORDB_PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize("bad", ["falkordb,graphiti", "mongodb"])
def test_restore_rejects_bad_part_choices_rclone_local_remote(backup_env, rclone_local_remote, bad):
    result = run_cli("restore", "--only", bad)
    assert result.returncode == 1
    assert "restore: error:" in result.stderr


def test_verify_only_checks_without_touching_rclone_local_remote(backup_env, rclone_local_remote, tmp_path):
    servers = backup_env
    fill(servers)
    assert run_cli("backup").returncode == 0
    wipe(servers)
    keep = tmp_path / "downloaded"
    result = run_cli("restore", "--verify-only", "--keep-download", str(keep))
    assert result.returncode == 0, result.stderr
    assert (keep / "falkordb" / "dump.rdb").read_bytes()[:5] == b"REDIS"
    assert servers.falkordb.client().dbsize() == 0 and servers.valkey.client().dbsize() == 0

    [folder] = backup_folders_on_disk(rclone_local_remote)
    manifest = manifest_on_disk(folder)
    manifest["files"][0]["object_size"] += 1  # an authentic manifest that no longer fits the object
    write_manifest_on_disk(folder, manifest)
    result = run_cli("restore", "--verify-only")
    assert result.returncode == 1 and "does not match the manifest" in result.stderr

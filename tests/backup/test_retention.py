"""Retention keeps BACKUP_RETENTION_DAYS, never the newest complete backup, and sweeps day-old incomplete ones;
forged, altered and future-dated backups are never chosen and never make it delete a real one."""
import datetime as dt
from pathlib import Path

from b2sdk.v2 import B2Api

from backup_lib import backup_cli
from backup_lib.manifest import build_manifest, seal_manifest
from backup_lib.naming import new_timestamp
from backup_lib.retention import COMPLETE, INCOMPLETE, Backup, folders_to_delete

from .conftest import run_cli
from .helpers import backup_key

NOW = dt.datetime(2025, 6, 30, 12, 0, tzinfo=dt.timezone.utc)


def _ago(**delta) -> str:
    return new_timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(**delta))


def test_folders_to_delete_plan():
    def at(**delta) -> str:
        return new_timestamp(NOW - dt.timedelta(**delta))

    folders = [
        Backup(at(days=40), COMPLETE),
        Backup(at(days=8), COMPLETE),
        Backup(at(days=6), COMPLETE),
        Backup(at(days=2), INCOMPLETE),
        Backup(at(hours=3), INCOMPLETE),
    ]
    assert folders_to_delete(folders, NOW, retention_days=7) == [at(days=40), at(days=8), at(days=2)]
    only_old = [Backup(at(days=40), COMPLETE), Backup(at(days=30), COMPLETE)]
    assert folders_to_delete(only_old, NOW, retention_days=7) == [at(days=40)]  # the newest complete stays


def sealed_manifest(timestamp: str, key=None) -> bytes:
    """The manifest of an empty backup taken at `timestamp`, sealed with the test key (or `key`)."""
    key = key or backup_key()
    manifest = build_manifest(timestamp=timestamp, started_at="", finished_at="", files=[], versions={}, groups=[],
                              key_counts={}, recipient=key.recipient)
    return seal_manifest(manifest, key)


def _fake_backup(root: Path, timestamp: str, complete: bool) -> Path:
    folder = root / "opencode-server" / timestamp
    (folder / "valkey").mkdir(parents=True)
    (folder / "valkey" / "dump.rdb.age").write_bytes(b"not really age")
    if complete:
        (folder / "manifest.json.age").write_bytes(sealed_manifest(timestamp))
    return folder


def test_retention_after_backup_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch):
    monkeypatch.setenv("BACKUP_RETENTION_DAYS", "7")
    old_complete = _fake_backup(rclone_local_remote, _ago(days=40), complete=True)
    recent_complete = _fake_backup(rclone_local_remote, _ago(days=3), complete=True)
    old_incomplete = _fake_backup(rclone_local_remote, _ago(days=2), complete=False)
    young_incomplete = _fake_backup(rclone_local_remote, _ago(hours=2), complete=False)
    unrelated = rclone_local_remote / "opencode-server" / "notes" / "readme.txt"
    unrelated.parent.mkdir()
    unrelated.write_text("not a backup")

    result = run_cli("backup", "--only", "valkey")
    assert result.returncode == 0, result.stderr
    assert not old_complete.exists() and not old_incomplete.exists()
    assert recent_complete.exists() and young_incomplete.exists() and unrelated.exists()
    assert "retention: deleted" in result.stdout


def test_retention_never_deletes_newest_complete_rclone_local_remote(backup_env, rclone_local_remote, monkeypatch):
    monkeypatch.setenv("BACKUP_RETENTION_DAYS", "7")
    oldest = _fake_backup(rclone_local_remote, _ago(days=40), complete=True)
    newest = _fake_backup(rclone_local_remote, _ago(days=30), complete=True)
    newer_but_incomplete = _fake_backup(rclone_local_remote, _ago(days=20), complete=False)
    result = run_cli("backup", "--prune-only")
    assert result.returncode == 0, result.stderr
    assert not oldest.exists() and not newer_but_incomplete.exists()
    assert newest.exists()


def test_retention_b2sdk_raw_simulator(backup_env, b2_simulator, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BACKUP_RETENTION_DAYS", "7")
    bucket = b2_simulator.admin_bucket()
    payload = tmp_path / "payload"
    payload.write_bytes(b"x" * 500)  # above the simulator's part size: stored as a large file
    old_complete, recent_complete, old_incomplete = _ago(days=40), _ago(days=3), _ago(days=2)
    for timestamp in (old_complete, recent_complete, old_incomplete):
        bucket.upload_local_file(str(payload), f"opencode-server/{timestamp}/valkey/dump.rdb.age")
    for timestamp in (old_complete, recent_complete):
        bucket.upload_bytes(sealed_manifest(timestamp), f"opencode-server/{timestamp}/manifest.json.age")
    # a second version of one object, and a large upload that was cut off and never finished
    bucket.upload_bytes(b"v2", f"opencode-server/{old_complete}/valkey/dump.rdb.age")
    api: B2Api = b2_simulator.factory()
    api.authorize_account("production", b2_simulator.key_id, b2_simulator.key)
    api.session.start_large_file(bucket.id_, f"opencode-server/{old_incomplete}/falkordb/dump.rdb", "b2/x-auto", {})

    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    remaining = {name.split("/")[1] for name, in ((v.file_name,) for v, _ in bucket.ls("", latest_only=False, recursive=True))}
    assert old_complete not in remaining and old_incomplete not in remaining
    assert recent_complete in remaining and len(remaining) == 2
    assert list(bucket.list_unfinished_large_files()) == []

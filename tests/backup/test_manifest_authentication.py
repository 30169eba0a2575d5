"""A forged backup never wins (issue 18, part 5): the manifest is authenticated with the backup key, so a forged,
altered, truncated or copied one is refused in one line before anything is touched, a folder dated in the future is
never the default restore, and neither can make retention delete a real backup."""
import datetime as dt
import json
import shutil

import pyrage

from backup_lib import backup_cli
from backup_lib.config import Settings
from backup_lib.naming import new_timestamp
from backup_lib.storage_rclone import RcloneStorage

from .conftest import run_cli
from .helpers import backup_folders_on_disk, backup_key, decrypt, fill, manifest_on_disk, wipe

FUTURE = "20990101T000000.000Z"


def _real_backup(root):
    result = run_cli("backup", "--only", "valkey")
    assert result.returncode == 0, result.stderr
    return backup_folders_on_disk(root)[-1]


def _forge(root, timestamp: str, manifest: dict, mac: str = "0" * 64) -> None:
    """What someone with write access to the bucket and the public key (it is in every manifest) can make."""
    folder = root / "opencode-server" / timestamp
    folder.mkdir(parents=True)
    forged = dict(manifest, timestamp=timestamp, mac=mac)
    (folder / "manifest.json.age").write_bytes(
        pyrage.encrypt(json.dumps(forged).encode(), [backup_key().identity.to_public()])
    )
    for entry in manifest["files"]:
        (folder / entry["object"]).parent.mkdir(parents=True, exist_ok=True)
        (folder / entry["object"]).write_bytes(b"forged")
    # and the plaintext manifest of the earlier format, which is not trusted either
    (folder / "manifest.json").write_text(json.dumps(dict(manifest, format="opencode-server-backup/1", files=[])))


def _listing() -> dict[str, str]:
    result = run_cli("restore", "--list")
    assert result.returncode == 0, result.stderr
    return {line.split("\t")[0]: line.split("\t")[1] for line in result.stdout.splitlines()}


def test_forged_and_future_backups_are_never_chosen_nor_restored_rclone_local_remote(backup_env, rclone_local_remote):
    servers = backup_env
    fill(servers)
    real = _real_backup(rclone_local_remote)
    manifest = manifest_on_disk(real)
    recent = new_timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30))
    _forge(rclone_local_remote, FUTURE, manifest)
    _forge(rclone_local_remote, recent, manifest)
    assert _listing() == {real.name: "complete", recent: "unverified", FUTURE: "future"}

    result = run_cli("restore", "--verify-only")
    assert result.returncode == 0, result.stderr
    assert f"{real.name}: downloading" in result.stdout and FUTURE not in result.stdout

    wipe(servers)
    for timestamp, reason in ((FUTURE, "in the future"), (recent, "fails authentication (altered or forged)")):
        result = run_cli("restore", "--wipe", "--backup", timestamp)
        assert result.returncode == 1
        [line] = result.stderr.splitlines()
        assert f"backup {timestamp}" in line and reason in line, line
    assert servers.valkey.client().dbsize() == 0


def test_forged_and_future_backups_never_make_retention_delete_real_ones_rclone_local_remote(
    backup_env, rclone_local_remote
):
    fill(backup_env)
    real = _real_backup(rclone_local_remote)
    _forge(rclone_local_remote, FUTURE, manifest_on_disk(real))
    settings = Settings.from_env()
    storage = RcloneStorage(settings.environ)
    # forty days on: the real backup is past the 14-day window, the forged one would be the newest if it counted
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=40)
    assert backup_cli.prune(settings, storage, now=later) == []
    assert real.exists() and (rclone_local_remote / "opencode-server" / FUTURE).exists()


def test_altered_truncated_and_copied_manifests_are_refused_in_one_line_rclone_local_remote(
    backup_env, rclone_local_remote
):
    servers = backup_env
    fill(servers)
    real = _real_backup(rclone_local_remote)
    stored = real / "manifest.json.age"
    original = stored.read_bytes()
    plaintext = json.loads(decrypt(original))

    altered = dict(plaintext, key_counts={"valkey": 999})  # re-encrypted to the public key, the old MAC kept
    cases = {
        "truncated": (original[: len(original) // 2], "does not decrypt"),
        "a flipped byte": (original[:-20] + bytes([original[-20] ^ 1]) + original[-19:], "does not decrypt"),
        "altered": (
            pyrage.encrypt(json.dumps(altered).encode(), [backup_key().identity.to_public()]),
            "fails authentication",
        ),
        "without MAC": (
            pyrage.encrypt(json.dumps({k: v for k, v in plaintext.items() if k != "mac"}).encode(),
                           [backup_key().identity.to_public()]),
            "malformed",
        ),
    }
    wipe(servers)
    for case, (data, expected) in cases.items():
        stored.write_bytes(data)
        result = run_cli("restore", "--wipe", "--backup", real.name)
        assert result.returncode == 1, case
        [line] = result.stderr.splitlines()
        assert expected in line and f"backup {real.name}" in line, (case, line)
        assert servers.valkey.client().dbsize() == 0, case
    stored.write_bytes(original)

    # the whole genuine backup copied under another (earlier, in-window) date
    copy_name = new_timestamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    shutil.copytree(real, real.parent / copy_name)
    result = run_cli("restore", "--verify-only", "--backup", copy_name)
    assert result.returncode == 1
    assert f"belongs to backup {real.name}" in result.stderr


def test_objects_swapped_between_two_genuine_backups_are_refused_rclone_local_remote(backup_env, rclone_local_remote):
    servers = backup_env
    fill(servers)
    first = _real_backup(rclone_local_remote)
    servers.valkey.client().set("between", "backups")
    second = _real_backup(rclone_local_remote)
    # both objects decrypt with the key; only the manifest's SHA-256 tells them apart
    shutil.copyfile(first / "valkey" / "keys.jsonl.gz.age", second / "valkey" / "keys.jsonl.gz.age")
    result = run_cli("restore", "--verify-only", "--backup", second.name)
    assert result.returncode == 1
    assert "valkey/keys.jsonl.gz does not match the manifest" in result.stderr


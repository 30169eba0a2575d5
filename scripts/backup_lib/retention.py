"""What backups there are and which to delete. A folder's status comes from its manifest, read and authenticated:
- complete: the manifest decrypts and authenticates with a key we hold and names this folder's timestamp;
- unverified: a manifest is there but fails that (forged, altered, truncated, or made with a key no longer held);
- unencrypted: only the plaintext manifest.json of an earlier version;
- incomplete: no manifest (a cut-off run, or one still uploading);
- future: dated more than MAX_CLOCK_SKEW ahead of now; never read, never chosen, never deleted, and never counted
  when deciding what is newest.
Retention deletes complete, unverified and unencrypted backups past the window and incomplete ones older than a day,
but never the newest complete one (the newest unencrypted one while there is no complete one): a forged backup can
neither become the newest nor make a real one go."""
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .naming import LEGACY_MANIFEST_NAME, MANIFEST_NAME, parse_timestamp, split_backup_object

INCOMPLETE_GRACE = dt.timedelta(days=1)
MAX_CLOCK_SKEW = dt.timedelta(minutes=5)

COMPLETE, UNVERIFIED, UNENCRYPTED, INCOMPLETE, FUTURE = "complete", "unverified", "unencrypted", "incomplete", "future"


@dataclass(frozen=True)
class BackupFolder:
    timestamp: str
    has_manifest: bool
    has_legacy_manifest: bool = False


@dataclass(frozen=True)
class Backup:
    timestamp: str
    status: str
    reason: str = ""  # why it is unverified


def backup_folders(prefix: str, object_names: list[str]) -> list[BackupFolder]:
    contents: dict[str, set[str]] = {}
    for name in object_names:
        split = split_backup_object(prefix, name)
        if split:
            contents.setdefault(split[0], set()).add(split[1])
    return sorted(
        (BackupFolder(timestamp, MANIFEST_NAME in names, LEGACY_MANIFEST_NAME in names) for timestamp, names in contents.items()),
        key=lambda folder: folder.timestamp,
    )


def classify(folders: list[BackupFolder], now: dt.datetime, verify: Callable[[str], str | None]) -> list[Backup]:
    """`verify(timestamp)` reads and authenticates that folder's manifest: None when it passes, else the reason."""
    backups = []
    for folder in folders:
        taken = parse_timestamp(folder.timestamp)
        if taken is None or taken > now + MAX_CLOCK_SKEW:
            backups.append(Backup(folder.timestamp, FUTURE))
        elif folder.has_manifest:
            reason = verify(folder.timestamp)
            backups.append(Backup(folder.timestamp, COMPLETE if reason is None else UNVERIFIED, reason or ""))
        elif folder.has_legacy_manifest:
            backups.append(Backup(folder.timestamp, UNENCRYPTED))
        else:
            backups.append(Backup(folder.timestamp, INCOMPLETE))
    return backups


def newest_complete(backups: list[Backup]) -> str | None:
    complete = [backup.timestamp for backup in backups if backup.status == COMPLETE]
    return max(complete) if complete else None


def _protected(backups: list[Backup]) -> str | None:
    newest = newest_complete(backups)
    if newest is not None:
        return newest
    unencrypted = [backup.timestamp for backup in backups if backup.status == UNENCRYPTED]
    return max(unencrypted) if unencrypted else None  # an upgrade never leaves the operator without a backup


def folders_to_delete(backups: list[Backup], now: dt.datetime, retention_days: int) -> list[str]:
    keep_after = now - dt.timedelta(days=retention_days)
    protected = _protected(backups)
    doomed = []
    for backup in backups:
        taken = parse_timestamp(backup.timestamp)
        if taken is None or backup.status == FUTURE or backup.timestamp == protected:
            continue
        if backup.status in (COMPLETE, UNVERIFIED, UNENCRYPTED) and taken < keep_after:
            doomed.append(backup.timestamp)
        elif backup.status == INCOMPLETE and taken < now - INCOMPLETE_GRACE:
            doomed.append(backup.timestamp)
    return doomed

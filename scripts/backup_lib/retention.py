"""Which backup folders to delete: complete ones past the retention window (never the newest complete one) and
incomplete ones (no manifest) older than a day, which are cut-off runs and not a backup in progress."""
import datetime as dt
from dataclasses import dataclass

from .naming import MANIFEST_NAME, parse_timestamp, split_backup_object

INCOMPLETE_GRACE = dt.timedelta(days=1)


@dataclass(frozen=True)
class BackupFolder:
    timestamp: str
    complete: bool


def backup_folders(prefix: str, object_names: list[str]) -> list[BackupFolder]:
    contents: dict[str, set[str]] = {}
    for name in object_names:
        split = split_backup_object(prefix, name)
        if split:
            contents.setdefault(split[0], set()).add(split[1])
    return sorted(
        (BackupFolder(timestamp, MANIFEST_NAME in names) for timestamp, names in contents.items()),
        key=lambda folder: folder.timestamp,
    )


def newest_complete(folders: list[BackupFolder]) -> str | None:
    complete = [folder.timestamp for folder in folders if folder.complete]
    return max(complete) if complete else None


def folders_to_delete(folders: list[BackupFolder], now: dt.datetime, retention_days: int) -> list[str]:
    keep_after = now - dt.timedelta(days=retention_days)
    newest = newest_complete(folders)
    doomed = []
    for folder in folders:
        taken = parse_timestamp(folder.timestamp)
        if taken is None or folder.timestamp == newest:
            continue
        if folder.complete and taken < keep_after:
            doomed.append(folder.timestamp)
        elif not folder.complete and taken < now - INCOMPLETE_GRACE:
            doomed.append(folder.timestamp)
    return doomed

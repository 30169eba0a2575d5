"""The backups on the remote with their authenticated status (retention.py), and one backup's opened manifest."""
import datetime as dt
import tempfile
from pathlib import Path

from .encryption import BackupKey
from .errors import BackupError
from .manifest import open_manifest
from .naming import MANIFEST_NAME, backup_dir
from .retention import Backup, backup_folders, classify
from .storage import Storage


def read_manifest(storage: Storage, prefix: str, timestamp: str, keys: list[BackupKey]):
    """(manifest, files, the key that opened it) of one backup; raises with the reason it is not trustworthy."""
    with tempfile.TemporaryDirectory(prefix="opencode-manifest-") as work:
        local = Path(work) / MANIFEST_NAME
        storage.download(f"{backup_dir(prefix, timestamp)}/{MANIFEST_NAME}", local)
        data = local.read_bytes()
    return open_manifest(data, keys, timestamp)


def list_backups(storage: Storage, prefix: str, keys: list[BackupKey], now: dt.datetime) -> list[Backup]:
    def verify(timestamp: str) -> str | None:
        try:
            read_manifest(storage, prefix, timestamp, keys)
        except BackupError as error:
            return str(error)
        return None

    return classify(backup_folders(prefix, storage.list_names(prefix)), now, verify)

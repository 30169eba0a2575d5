"""The manifest lists every file of a backup with its size and SHA-1; uploaded last, it marks the backup complete."""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import BackupError

MANIFEST_FORMAT = "opencode-server-backup/1"


@dataclass(frozen=True)
class ManifestFile:
    name: str  # relative to the backup folder
    part: str  # falkordb, valkey or graphiti
    kind: str  # rdb, keys or graphiti-export
    size: int
    sha1: str


def build_manifest(
    *,
    timestamp: str,
    started_at: str,
    finished_at: str,
    files: list[ManifestFile],
    versions: dict[str, object],
    groups: list[str],
    key_counts: dict[str, int],
) -> dict[str, object]:
    return {
        "format": MANIFEST_FORMAT,
        "timestamp": timestamp,
        "started_at": started_at,
        "finished_at": finished_at,
        "versions": versions,
        "graphiti_groups": groups,
        "key_counts": key_counts,
        "files": [asdict(file) for file in files],
    }


def write_manifest(manifest: dict[str, object], path: Path) -> None:
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_manifest(path: Path) -> tuple[dict[str, object], list[ManifestFile]]:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"manifest is unreadable: {error}") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise BackupError(f"manifest format {manifest.get('format')!r} is not {MANIFEST_FORMAT}")
    try:
        files = [ManifestFile(**entry) for entry in manifest["files"]]
    except (KeyError, TypeError) as error:
        raise BackupError(f"manifest file list is malformed: {error}") from None
    for file in files:
        if ".." in file.name.split("/") or file.name.startswith("/"):
            raise BackupError(f"manifest names an unsafe path {file.name!r}")
    return manifest, files

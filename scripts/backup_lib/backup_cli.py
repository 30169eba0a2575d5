"""`backup`: snapshot Valkey, FalkorDB, the Graphiti export and OpenCode's database, encrypt each file with age to
BACKUP_ENCRYPTION_KEY, upload under `<prefix>/<UTC timestamp>/`, verify, upload the authenticated (and encrypted)
manifest last, then apply retention. `backup --new-key` prints a new key."""
import argparse
import datetime as dt
import platform
import shutil
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

from . import datadog_report, graphiti_export, opencode_db, snapshot
from .catalog import list_backups
from .cli_support import EXIT_OK, run_reporting_errors, say
from .config import PARTS, Settings, parse_groups, parse_parts
from .encryption import ENCRYPTED_SUFFIX, BackupKey, encrypt_file, new_key_text
from .errors import BackupError, VerificationError
from .hashing import sha1_of_file, sha256_of_file
from .manifest import ManifestFile, build_manifest, seal_manifest
from .naming import MANIFEST_NAME, backup_dir, new_timestamp
from .retention import folders_to_delete
from .storage import Storage
from .storage_b2 import B2ApiFactory
from .storage_factory import open_storage

PROGRAM = "backup"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__)
    parser.add_argument("--only", help=f"comma list of parts ({','.join(PARTS)}); default BACKUP_PARTS or all")
    parser.add_argument("--groups", help="comma list of Graphiti groups to export; default BACKUP_GROUPS or all graphs")
    parser.add_argument("--no-prune", action="store_true", help="skip retention after the backup")
    parser.add_argument("--prune-only", action="store_true", help="only apply retention (BACKUP_RETENTION_DAYS)")
    parser.add_argument("--new-key", action="store_true",
                        help="print a new age identity for BACKUP_ENCRYPTION_KEY(_FILE) and exit (touches nothing)")
    return parser


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _tool_versions(settings: Settings) -> dict[str, object]:
    versions: dict[str, object] = {"python": platform.python_version()}
    for package in ("b2sdk", "pyrage", "redis", "falkordb", "graphiti-core"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    for tool, args in (("redis-cli", ["redis-cli", "--version"]), ("rclone", ["rclone", "version"])):
        if tool == "rclone" and settings.target != "rclone":
            continue
        try:
            output = subprocess.run(args, capture_output=True, text=True, timeout=30).stdout
            versions[tool] = output.splitlines()[0].strip() if output else "unknown"
        except (OSError, subprocess.TimeoutExpired):
            versions[tool] = "unavailable"
    return versions


def _collect(settings: Settings, parts: list[str], groups: list[str] | None, work: Path):
    """Dump every part into `work`; returns (files as (relative name, part, kind), versions, groups, key counts)."""
    files: list[tuple[str, str, str]] = []
    versions: dict[str, object] = {"tools": _tool_versions(settings)}
    key_counts: dict[str, int] = {}
    # Valkey before FalkorDB: a queued episode is either still in the Valkey snapshot or already in the graph
    # snapshot, so a restore replays at worst an episode twice and never loses one
    for part in ("valkey", "falkordb"):
        if part not in parts:
            continue
        endpoint = settings.valkey if part == "valkey" else settings.falkordb
        versions[part] = snapshot.server_versions(endpoint)
        (work / part).mkdir()
        snapshot.dump_rdb(endpoint, work / part / "dump.rdb", settings.environ)
        files.append((f"{part}/dump.rdb", part, "rdb"))
        key_counts[part] = snapshot.dump_keys(endpoint, work / part / "keys.jsonl.gz")
        files.append((f"{part}/keys.jsonl.gz", part, "keys"))
    exported_groups: list[str] = []
    if "graphiti" in parts:
        exported_groups = groups if groups is not None else graphiti_export.list_groups(settings.falkordb)
        for group in exported_groups:
            if not graphiti_export.GROUP_ID.match(group):
                raise BackupError(f"group id {group!r} is not [A-Za-z0-9_-]+")
            name = graphiti_export.export_file_name(group)
            graphiti_export.export_group(settings, group, work / name)
            files.append((name, "graphiti", "graphiti-export"))
    if "opencode" in parts:
        facts = opencode_db.snapshot(settings.opencode_db, work / opencode_db.FILE_NAME)
        versions["opencode"] = facts.as_manifest()
        files.append((opencode_db.FILE_NAME, "opencode", "sqlite"))
    return files, versions, exported_groups, key_counts


def _upload_verified(storage: Storage, local: Path, remote_name: str, sha1: str) -> None:
    storage.upload(local, remote_name, sha1)
    stored = storage.stored_sha1(remote_name)
    if stored != sha1:
        raise VerificationError(f"{remote_name}: stored SHA-1 {stored} differs from the local {sha1}")


def _encrypt_and_upload(storage: Storage, key: BackupKey, work: Path, folder: str, name: str, part: str,
                        kind: str) -> ManifestFile:
    plain = work / name
    encrypted = work / (name + ENCRYPTED_SUFFIX)
    encrypt_file(key, plain, encrypted)
    entry = ManifestFile(
        name=name,
        object=name + ENCRYPTED_SUFFIX,
        part=part,
        kind=kind,
        size=plain.stat().st_size,
        sha256=sha256_of_file(plain),
        object_size=encrypted.stat().st_size,
        object_sha256=sha256_of_file(encrypted),
    )
    plain.unlink()  # the plaintext never waits on disk longer than its encryption
    _upload_verified(storage, encrypted, f"{folder}/{entry.object}", sha1_of_file(encrypted))
    return entry


def _take_backup(settings: Settings, storage: Storage, key: BackupKey, parts: list[str],
                 groups: list[str] | None) -> tuple[str, int, int]:
    """Returns the backup's timestamp, its file count and its plaintext bytes."""
    started = _utc_now()
    timestamp = new_timestamp(started)
    folder = backup_dir(settings.prefix, timestamp)
    if storage.list_names(folder):
        raise BackupError(f"{folder}/ already holds objects; refusing to write into it")
    say(PROGRAM, f"{timestamp}: dumping {', '.join(parts)}")
    with tempfile.TemporaryDirectory(prefix="opencode-backup-") as work_text:
        work = Path(work_text)
        collected, versions, exported_groups, key_counts = _collect(settings, parts, groups, work)
        manifest_files: list[ManifestFile] = []
        for name, part, kind in collected:
            entry = _encrypt_and_upload(storage, key, work, folder, name, part, kind)
            manifest_files.append(entry)
            say(PROGRAM, f"{timestamp}: uploaded and verified {name} ({entry.size} bytes)")
        manifest = build_manifest(
            timestamp=timestamp,
            started_at=_iso(started),
            finished_at=_iso(_utc_now()),
            files=manifest_files,
            versions=versions,
            groups=exported_groups,
            key_counts=key_counts,
            recipient=key.recipient,
        )
        manifest_path = work / MANIFEST_NAME
        manifest_path.write_bytes(seal_manifest(manifest, key))
        _upload_verified(storage, manifest_path, f"{folder}/{MANIFEST_NAME}", sha1_of_file(manifest_path))
    total = sum(file.size for file in manifest_files)
    say(PROGRAM, f"{timestamp}: complete, {len(manifest_files)} files, {total} bytes in {storage.description} at {folder}/")
    return timestamp, len(manifest_files), total


def prune(settings: Settings, storage: Storage, now: dt.datetime | None = None) -> list[str]:
    now = now or _utc_now()
    backups = list_backups(storage, settings.prefix, settings.keys.all(), now)
    doomed = folders_to_delete(backups, now, settings.retention_days)
    for timestamp in doomed:
        storage.delete_tree(backup_dir(settings.prefix, timestamp))
        say(PROGRAM, f"retention: deleted {backup_dir(settings.prefix, timestamp)}/")
    return doomed


def main(argv: list[str] | None = None, b2_api_factory: B2ApiFactory | None = None) -> int:
    """The CLI; `b2_api_factory` is the seam through which tests run the same code against b2sdk's simulator."""
    args = _parser().parse_args(argv)
    if args.new_key:
        print(new_key_text(), end="", flush=True)
        return EXIT_OK

    started = time.monotonic()
    taken: dict[str, object] = {}

    def body() -> int:
        settings = Settings.from_env()
        key = settings.keys.require_current(PROGRAM)
        parts = parse_parts(args.only) if args.only else settings.parts
        groups = parse_groups(args.groups) if args.groups else settings.groups
        if shutil.which("redis-cli") is None and {"falkordb", "valkey"} & set(parts) and not args.prune_only:
            raise BackupError("redis-cli is not installed")
        storage = open_storage(settings, b2_api_factory)
        if not args.prune_only:
            taken["timestamp"], taken["files"], taken["bytes"] = _take_backup(settings, storage, key, parts, groups)
        if not args.no_prune:
            prune(settings, storage)
        return EXIT_OK

    failures: list[str] = []
    code = run_reporting_errors(PROGRAM, body, on_error=failures.append)
    if not args.prune_only:
        seconds = time.monotonic() - started
        datadog_report.report(datadog_report.Outcome(
            succeeded=code == EXIT_OK, seconds=seconds, reason=failures[-1] if failures else "",
            timestamp=taken.get("timestamp"), files=int(taken.get("files", 0)), bytes=int(taken.get("bytes", 0))))
    return code

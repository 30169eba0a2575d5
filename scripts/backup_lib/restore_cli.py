"""`restore`: fetch a complete backup (the newest, or `--backup TIMESTAMP`) whose manifest decrypts and authenticates
with BACKUP_ENCRYPTION_KEY or one of BACKUP_ENCRYPTION_OLD_KEYS, verify every object against the manifest and decrypt
it, and only then load it: Valkey and FalkorDB keys through RESTORE into the running servers, the Graphiti export
through the memory manager's import, OpenCode's database (`--only opencode`, with the server stopped) by replacing
the file after checking it."""
import argparse
import datetime as dt
import json
import tempfile
from pathlib import Path

from . import graphiti_export, key_restore, opencode_db
from .catalog import list_backups, read_manifest
from .cli_support import EXIT_OK, run_reporting_errors, say
from .config import PARTS, Settings, parse_groups, parse_parts
from .encryption import KEY_NAME, OLD_KEYS_NAME, BackupKey, decrypt_file
from .errors import BackupError, ConfigError, VerificationError
from .hashing import sha256_of_file
from .manifest import ManifestFile
from .naming import backup_dir, parse_timestamp
from .retention import COMPLETE, FUTURE, INCOMPLETE, UNENCRYPTED, MAX_CLOCK_SKEW, newest_complete
from .redaction import redact
from .storage import Storage
from .storage_b2 import B2ApiFactory
from .storage_factory import open_storage

PROGRAM = "restore"
# The Graphiti export is the portable copy of the same graphs, and OpenCode's database can only be replaced while its
# server is stopped: both are opt-in with --only.
DEFAULT_PARTS = "falkordb,valkey"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__)
    parser.add_argument("--backup", metavar="TIMESTAMP", help="which backup (default: the newest complete one)")
    parser.add_argument("--only", default=DEFAULT_PARTS, help=f"comma list of parts ({','.join(PARTS)}); default {DEFAULT_PARTS}")
    parser.add_argument("--groups", help="with graphiti: comma list of groups to import (default: all in the backup)")
    conflict = parser.add_mutually_exclusive_group()
    conflict.add_argument("--replace", action="store_true", help="overwrite keys/graphs that exist in the target")
    conflict.add_argument("--wipe", action="store_true", help="empty each target (FLUSHALL / delete the group graph) first")
    parser.add_argument("--list", action="store_true", help="list backups and whether each is complete, then exit")
    parser.add_argument("--json", action="store_true",
                        help="with --list: one JSON object per backup; a complete one with its authenticated manifest")
    parser.add_argument("--verify-only", action="store_true", help="download and verify against the manifest, touch nothing")
    parser.add_argument("--keep-download", metavar="DIR", help="download into DIR and keep the files (default: a temp dir)")
    return parser


def _choose_backup(settings: Settings, storage: Storage, wanted: str | None) -> str:
    if wanted is not None and parse_timestamp(wanted) is None:
        raise BackupError(f"{wanted!r} is not a backup timestamp (like 20250131T031700.000Z)")
    backups = list_backups(storage, settings.prefix, settings.keys.all(), dt.datetime.now(dt.timezone.utc))
    if wanted is None:
        newest = newest_complete(backups)
        if newest is None:
            raise BackupError(
                f"no complete backup under {settings.prefix}/ in {storage.description} that authenticates with "
                f"{KEY_NAME} or {OLD_KEYS_NAME} (see restore --list)"
            )
        return newest
    match = next((backup for backup in backups if backup.timestamp == wanted), None)
    if match is None:
        raise BackupError(f"no backup {wanted} under {settings.prefix}/ in {storage.description}")
    if match.status == INCOMPLETE:
        raise BackupError(f"backup {wanted} is incomplete (no manifest); refusing to restore it")
    if match.status == FUTURE:
        raise BackupError(f"backup {wanted} is dated more than {int(MAX_CLOCK_SKEW.total_seconds() // 60)} minutes in "
                          "the future; refusing to restore it")
    if match.status == UNENCRYPTED:
        raise BackupError(f"backup {wanted} is an unencrypted backup of an earlier version (manifest.json); this version "
                          "restores only encrypted, authenticated backups (see scripts/README.md)")
    if match.status != COMPLETE:
        raise BackupError(f"{match.reason}; nothing was restored")
    return wanted


def _download_verified(settings: Settings, storage: Storage, timestamp: str, work: Path) -> tuple[dict, list[ManifestFile]]:
    """Every object is checked against the authenticated manifest before it is decrypted, and every decrypted file
    against it again; a refusal names the file and leaves the targets untouched."""
    manifest, files, key = read_manifest(storage, settings.prefix, timestamp, settings.keys.all())
    folder = backup_dir(settings.prefix, timestamp)
    for file in files:
        encrypted = work / file.object
        encrypted.parent.mkdir(parents=True, exist_ok=True)
        storage.download(f"{folder}/{file.object}", encrypted)
        size, sha256 = encrypted.stat().st_size, sha256_of_file(encrypted)
        if size != file.object_size or sha256 != file.object_sha256:
            raise VerificationError(
                f"{file.name} does not match the manifest (stored object size {size} vs {file.object_size}, SHA-256 "
                f"{sha256[:16]}… vs {file.object_sha256[:16]}…); nothing was restored"
            )
        _decrypt_checked(key, file, encrypted, work / file.name)
        encrypted.unlink()
    return manifest, files


def _decrypt_checked(key: BackupKey, file: ManifestFile, encrypted: Path, plain: Path) -> None:
    decrypt_file(key, encrypted, plain, file.name)
    if plain.stat().st_size != file.size or sha256_of_file(plain) != file.sha256:
        raise VerificationError(f"{file.name} decrypts to other content than the manifest lists; nothing was restored")


def _key_file(files: list[ManifestFile], part: str, work: Path) -> Path:
    for file in files:
        if file.part == part and file.kind == "keys":
            return work / file.name
    raise BackupError(f"the backup has no {part} key dump")


def _export_files(files: list[ManifestFile], groups: list[str] | None, work: Path) -> dict[str, Path]:
    exports = {Path(file.name).stem: work / file.name for file in files if file.kind == "graphiti-export"}
    if groups is None:
        return exports
    missing = sorted(set(groups) - set(exports))
    if missing:
        raise BackupError(f"the backup has no Graphiti export for group(s) {', '.join(missing)}")
    return {group: exports[group] for group in groups}


def _refuse_conflicts(settings: Settings, parts: list[str], files, exports: dict[str, Path], work: Path) -> None:
    """Checked for every part before any part is loaded, so a refusal leaves the targets untouched."""
    for part in ("valkey", "falkordb"):
        if part in parts:
            endpoint = settings.valkey if part == "valkey" else settings.falkordb
            clashes = key_restore.conflicting_keys(endpoint, _key_file(files, part, work))
            if clashes:
                raise BackupError(
                    f"{part} already holds key(s) from the backup ({', '.join(clashes)}); "
                    "use --replace to overwrite them or --wipe to empty the server first; nothing was restored"
                )
    if "graphiti" in parts:
        for group in exports:
            if graphiti_export.graph_node_count(settings.falkordb, group):
                raise BackupError(
                    f"graph {group} is not empty; the Graphiti import needs an empty graph: use --wipe; nothing was restored"
                )


def _opencode_file(files: list[ManifestFile], work: Path) -> Path:
    for file in files:
        if file.part == "opencode" and file.kind == "sqlite":
            return work / file.name
    raise BackupError("the backup has no OpenCode database (it was taken without the opencode part)")


def _check_opencode(settings: Settings, files: list[ManifestFile], work: Path, args: argparse.Namespace) -> Path:
    """Everything that could make the OpenCode restore fail, checked before any part is touched."""
    copy = _opencode_file(files, work)
    facts = opencode_db.check_integrity(copy, f"the backup's {opencode_db.FILE_NAME}")
    opencode_db.refuse_newer_schema(facts, opencode_db.image_schema(settings.opencode_bin))
    opencode_db.refuse_if_open(settings.opencode_db)
    if not (args.replace or args.wipe) and opencode_db.live_has_data(settings.opencode_db):
        raise BackupError(
            f"{settings.opencode_db} already exists; use --replace to replace it (it is kept aside until the restore "
            "has finished); nothing was restored"
        )
    return copy


def _restore(settings: Settings, storage: Storage, args: argparse.Namespace, work: Path) -> None:
    parts = parse_parts(args.only)
    if "falkordb" in parts and "graphiti" in parts:
        raise BackupError("falkordb and graphiti hold the same graphs (exact keys vs. portable export); restore one")
    timestamp = _choose_backup(settings, storage, args.backup)
    say(PROGRAM, f"{timestamp}: downloading and verifying from {storage.description}")
    _, files = _download_verified(settings, storage, timestamp, work)
    say(PROGRAM, f"{timestamp}: {len(files)} files match the manifest")
    for file in files:
        if file.kind == "sqlite":
            try:
                facts = opencode_db.check_integrity(work / file.name, f"the backup's {file.name}")
            except VerificationError as error:
                raise VerificationError(f"{error}; nothing was restored") from None
            say(PROGRAM, f"{timestamp}: {file.name} passes integrity_check (schema {facts.schema}, "
                         f"{facts.sessions} sessions, {facts.messages} messages)")
    if args.verify_only:
        return
    opencode_copy = _check_opencode(settings, files, work, args) if "opencode" in parts else None
    exports = _export_files(files, parse_groups(args.groups), work) if "graphiti" in parts else {}
    if not (args.replace or args.wipe):
        _refuse_conflicts(settings, parts, files, exports, work)
    for part in ("valkey", "falkordb"):
        if part in parts:
            endpoint = settings.valkey if part == "valkey" else settings.falkordb
            if args.wipe:
                key_restore.wipe(endpoint)
            count = key_restore.restore_keys(endpoint, _key_file(files, part, work), replace=args.replace)
            say(PROGRAM, f"{timestamp}: {part}: restored {count} keys")
    if "graphiti" in parts:
        for group, export_path in exports.items():
            if args.wipe or args.replace:
                graphiti_export.delete_graph(settings.falkordb, group)
            graphiti_export.import_group(settings, group, export_path)
            say(PROGRAM, f"{timestamp}: graphiti: imported group {group}")
    if opencode_copy is not None:
        opencode_db.refuse_if_open(settings.opencode_db)  # again: a server may have started meanwhile
        opencode_db.replace_live(opencode_copy, settings.opencode_db, lambda message: say(PROGRAM, f"{timestamp}: {message}"))
        say(PROGRAM, f"{timestamp}: opencode: restored {settings.opencode_db}")
    say(PROGRAM, f"{timestamp}: restore of {', '.join(parts)} finished")


def main(argv: list[str] | None = None, b2_api_factory: B2ApiFactory | None = None) -> int:
    args = _parser().parse_args(argv)

    def body() -> int:
        settings = Settings.from_env()
        if not settings.keys.all():
            raise ConfigError(f"{KEY_NAME} (or {KEY_NAME}_FILE) is not set: restore needs the key the backup was made "
                              f"with (or that key in {OLD_KEYS_NAME})")
        storage = open_storage(settings, b2_api_factory)
        if args.list:
            now = dt.datetime.now(dt.timezone.utc)
            for backup in list_backups(storage, settings.prefix, settings.keys.all(), now):
                if not args.json:
                    print("\t".join(filter(None, (backup.timestamp, backup.status, redact(backup.reason)))))
                    continue
                entry: dict[str, object] = {"timestamp": backup.timestamp, "status": backup.status}
                if backup.reason:
                    entry["reason"] = redact(backup.reason)
                if backup.status == COMPLETE:
                    entry["manifest"] = read_manifest(storage, settings.prefix, backup.timestamp, settings.keys.all())[0]
                print(json.dumps(entry, sort_keys=True))
            return EXIT_OK
        if args.keep_download:
            work = Path(args.keep_download)
            work.mkdir(parents=True, exist_ok=True)
            _restore(settings, storage, args, work)
        else:
            with tempfile.TemporaryDirectory(prefix="opencode-restore-") as work_text:
                _restore(settings, storage, args, Path(work_text))
        return EXIT_OK

    return run_reporting_errors(PROGRAM, body)

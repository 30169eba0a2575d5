"""OpenCode's own database (`~/.local/share/opencode/opencode.db`, SQLite in WAL mode: sessions, messages, logins).

Backup: SQLite's online backup API copies a consistent snapshot while the server keeps writing (a file copy of a WAL
database is not one), then `PRAGMA integrity_check` on the copy. Restore: the object is checked (integrity, schema no
newer than this image's OpenCode knows) and no process may hold the live database open; only then is the live file
moved aside, the verified copy put in its place, and the moved-aside file removed once the restore has finished.

OpenCode records its schema as rows of its `migration` table (drizzle-style ids, `<UTC timestamp>_<name>`, applied in
id order); the newest id is the schema version. The image's version is what its `opencode` binary creates in a scratch
data directory (`opencode db`), so no version list is kept here to go stale.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import BackupError, VerificationError

FILE_NAME = "opencode/opencode.db"
SIDE_FILES = ("-wal", "-shm", "-journal")
BUSY_TIMEOUT_SECONDS = 30
SCHEMA_PROBE_TIMEOUT_SECONDS = 180
# SQLite's WAL index: every open connection holds a shared lock on this byte of `-shm` for its whole life
# (WALINDEX_LOCK_OFFSET 120 + the DMS slot 8), which is how SQLite itself tells whether it is alone.
SHM_DMS_LOCK_OFFSET = 128


@dataclass(frozen=True)
class DatabaseFacts:
    schema: str  # newest applied migration id, "" when the table is missing
    migrations: list[str]
    sessions: int
    messages: int

    def as_manifest(self) -> dict[str, object]:
        return {"schema": self.schema, "migrations": len(self.migrations), "sessions": self.sessions,
                "messages": self.messages}


def default_path(environ: dict[str, str]) -> Path:
    """Where OpenCode keeps it: $XDG_DATA_HOME/opencode/opencode.db, XDG_DATA_HOME defaulting to ~/.local/share."""
    if environ.get("OPENCODE_DB"):
        return Path(environ["OPENCODE_DB"])
    data_home = environ.get("XDG_DATA_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"),
                                                             ".local", "share")
    return Path(data_home) / "opencode" / "opencode.db"


def _connect_read_write(path: Path) -> sqlite3.Connection:
    """Opens an existing database (never creates one) the way the server does, so WAL readers see every commit."""
    return sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS)


def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS)


def _count(connection: sqlite3.Connection, table: str) -> int:
    try:
        return int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    except sqlite3.DatabaseError:
        return 0


def facts_of(connection: sqlite3.Connection) -> DatabaseFacts:
    try:
        migrations = [row[0] for row in connection.execute("SELECT id FROM migration ORDER BY id")]
    except sqlite3.DatabaseError:
        migrations = []
    return DatabaseFacts(
        schema=migrations[-1] if migrations else "",
        migrations=migrations,
        sessions=_count(connection, "session"),
        messages=_count(connection, "message"),
    )


def check_integrity(path: Path, what: str) -> DatabaseFacts:
    """`PRAGMA integrity_check` must answer exactly "ok"; also fails on a file that is no SQLite database at all."""
    try:
        connection = _connect_read_only(path)
        try:
            result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
            if result != ["ok"]:
                raise VerificationError(f"{what} fails PRAGMA integrity_check: {'; '.join(map(str, result[:5]))}")
            facts = facts_of(connection)
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise VerificationError(f"{what} is not a readable SQLite database: {error}") from None
    if not facts.schema:
        raise VerificationError(f"{what} has no OpenCode migration table: not an OpenCode database")
    return facts


def snapshot(live: Path, destination: Path) -> DatabaseFacts:
    """A consistent copy of the live database while the server writes: one backup step, so the copy is the database
    as of one read transaction (a WAL reader never blocks the writer). The copy is a single file (journal_mode DELETE)
    and must pass integrity_check."""
    if not live.is_file():
        raise BackupError(
            f"no OpenCode database at {live}: mount OpenCode's data volume (/root/.local/share/opencode) into this "
            "container, set OPENCODE_DB, or leave the part out (--only / BACKUP_PARTS)"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        source = _connect_read_write(live)
        try:
            target = sqlite3.connect(destination)
            try:
                source.backup(target, pages=-1)
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        finally:
            source.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"online backup of {live} failed: {error}") from None
    return check_integrity(destination, f"the backup copy of {live}")


def image_schema(opencode_bin: str) -> list[str]:
    """Every migration id this image's OpenCode applies, read from a database it creates in a scratch directory
    (HOME and XDG dirs point there, so no plugin or config of the real server is loaded)."""
    if shutil.which(opencode_bin) is None:
        raise BackupError(f"cannot tell this image's OpenCode schema: {opencode_bin!r} is not installed (OPENCODE_BIN)")
    with tempfile.TemporaryDirectory(prefix="opencode-schema-") as scratch:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": scratch,
            "XDG_DATA_HOME": f"{scratch}/data",
            "XDG_CONFIG_HOME": f"{scratch}/config",
            "XDG_STATE_HOME": f"{scratch}/state",
            "XDG_CACHE_HOME": f"{scratch}/cache",
        }
        try:
            result = subprocess.run(
                [opencode_bin, "db", "--format", "json", "SELECT id FROM migration ORDER BY id"],
                capture_output=True, text=True, timeout=SCHEMA_PROBE_TIMEOUT_SECONDS, env=env, cwd=scratch,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise BackupError(f"cannot tell this image's OpenCode schema: {error}") from None
    try:
        rows = json.loads(result.stdout)
        ids = sorted(str(row["id"]) for row in rows)
    except (ValueError, TypeError, KeyError):
        raise BackupError(
            f"cannot tell this image's OpenCode schema: `opencode db` exited {result.returncode}: "
            f"{(result.stderr or result.stdout).strip()[-300:]}"
        ) from None
    if not ids:
        raise BackupError("cannot tell this image's OpenCode schema: a fresh OpenCode database has no migrations")
    return ids


def refuse_newer_schema(backup: DatabaseFacts, image_ids: list[str]) -> None:
    unknown = sorted(set(backup.migrations) - set(image_ids))
    if unknown:
        raise BackupError(
            f"the backup's OpenCode database has schema {backup.schema}, newer than this image's OpenCode schema "
            f"{image_ids[-1]} (it lacks migration(s) {', '.join(unknown[:3])}); restore it with an image of that "
            "OpenCode release or newer; nothing was restored"
        )


def _proc_holders(paths: set[str]) -> list[str]:
    holders = []
    me = os.getpid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == me:
            continue
        try:
            descriptors = list((proc / "fd").iterdir())
        except OSError:  # gone, or another user's process we may not look into
            continue
        targets = set()
        for descriptor in descriptors:
            try:
                targets.add(os.readlink(descriptor))
            except OSError:  # closed meanwhile
                continue
        if targets & paths:
            try:
                command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except OSError:
                command = "?"
            holders.append(f"pid {proc.name} ({command[:80]})")
    return holders


def _lock_holder(live: Path) -> str | None:
    """A connection this process cannot see (another container on the same volume) still holds its shared lock on the
    WAL index; trying to take that byte exclusively tells whether anyone has the database open."""
    shm = Path(f"{live}-shm")
    if not shm.exists():
        return None
    try:
        descriptor = os.open(shm, os.O_RDWR)
    except OSError:
        return None
    try:
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, SHM_DMS_LOCK_OFFSET)
        except OSError:
            return f"a process that has {live} open (it holds SQLite's lock on {shm.name}; another container?)"
        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, SHM_DMS_LOCK_OFFSET)
        return None
    finally:
        os.close(descriptor)


def open_holders(live: Path) -> list[str]:
    paths = {str(live.resolve()) + suffix for suffix in ("", *SIDE_FILES)} | {str(live) + s for s in ("", *SIDE_FILES)}
    holders = _proc_holders(paths)
    if not holders:
        locked = _lock_holder(live)
        if locked:
            holders.append(locked)
    return holders


def refuse_if_open(live: Path) -> None:
    holders = open_holders(live)
    if holders:
        raise BackupError(
            f"{live} is open in {', '.join(holders)}: stop the OpenCode server (the container, or `opencode serve`) "
            "that uses this data directory, then restore; nothing was restored"
        )


def live_has_data(live: Path) -> bool:
    return live.is_file() and live.stat().st_size > 0


def replace_live(verified_copy: Path, live: Path, say) -> None:
    """Moves the live database (and its -wal/-shm) aside, puts the verified copy in its place (same owner and mode as
    the file it replaces), checks it again, and only then deletes what was moved aside; any failure puts it back."""
    live.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = live.parent / f".{live.name}.replaced-{stamp}"
    aside.mkdir()
    moved: list[tuple[Path, Path]] = []
    reference = live.parent.stat()
    owner = (reference.st_uid, reference.st_gid)
    mode = 0o660
    if live.exists():
        current = live.stat()
        owner, mode = (current.st_uid, current.st_gid), current.st_mode & 0o777
    incoming = live.parent / f".{live.name}.restoring-{stamp}"
    placed = False
    try:
        for suffix in ("", *SIDE_FILES):
            path = Path(f"{live}{suffix}")
            if path.exists():
                target = aside / path.name
                os.replace(path, target)
                moved.append((target, path))
        shutil.copyfile(verified_copy, incoming)
        with open(incoming, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(incoming, mode)
        if os.geteuid() == 0:
            os.chown(incoming, *owner)
        os.replace(incoming, live)
        placed = True
        check_integrity(live, f"the restored {live}")
    except BaseException:
        incoming.unlink(missing_ok=True)
        if placed:  # only what this restore put there; the originals are still aside
            for suffix in ("", *SIDE_FILES):
                Path(f"{live}{suffix}").unlink(missing_ok=True)
        for target, original in moved:
            os.replace(target, original)
        aside.rmdir()
        raise
    if moved:
        say(f"opencode: replaced {live}; the previous copy was kept aside in {aside} until now")
    shutil.rmtree(aside)

"""Any rclone remote, configured only from the environment (RCLONE_CONFIG_<NAME>_TYPE=... and friends).

`BACKUP_RCLONE_REMOTE` names the root, e.g. `b2:my-bucket` or `disk:/srv/backups`, or is a connection string
(`:b2,account=…,key=…:my-bucket`) whose credentials reach rclone only through its environment (rclone_remote.py). When it is not set the root is
`b2:$B2_BUCKET` and, if no `RCLONE_CONFIG_B2_*` remote is configured, one is derived from the B2_* variables for the
rclone child process only.
"""
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from .errors import BackupError
from .rclone_remote import parse_remote
from .redaction import redact, redact_connection_strings

_RCLONE_TIMEOUT_SECONDS = 6 * 3600  # bounds a stuck transfer; a large RDB over a slow link still fits
_NOT_FOUND_EXIT_CODES = (3, 4)  # directory not found, file not found


class RcloneStorage:
    def __init__(self, environ: Mapping[str, str], rclone_binary: str = "rclone"):
        self._environ = dict(environ)
        self._binary = rclone_binary
        remote = environ.get("BACKUP_RCLONE_REMOTE")
        if not remote:
            bucket = environ.get("B2_BUCKET")
            if not bucket:
                raise BackupError("rclone target needs BACKUP_RCLONE_REMOTE (e.g. b2:my-bucket) or B2_BUCKET")
            remote = f"b2:{bucket}"
            if not environ.get("RCLONE_CONFIG_B2_TYPE"):
                self._environ["RCLONE_CONFIG_B2_TYPE"] = "b2"
                self._environ.setdefault("RCLONE_CONFIG_B2_ACCOUNT", environ.get("B2_APPLICATION_KEY_ID", ""))
                self._environ.setdefault("RCLONE_CONFIG_B2_KEY", environ.get("B2_APPLICATION_KEY", ""))
        parsed = parse_remote(remote)
        self._environ.update(parsed.child_environ)
        self._root = parsed.root
        self.description = f"rclone remote {redact_connection_strings(remote.rstrip('/'))}"
        self._check_root()

    def _path(self, name: str) -> str:
        separator = "" if self._root.endswith(":") else "/"
        return f"{self._root}{separator}{name}"

    def _run(self, *args: str, allow_not_found: bool = False) -> subprocess.CompletedProcess[str]:
        try:
            result = subprocess.run(
                [self._binary, "--quiet", *args],
                env=self._environ,
                capture_output=True,
                text=True,
                timeout=_RCLONE_TIMEOUT_SECONDS,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise BackupError(f"{self._binary} is not installed") from None
        except subprocess.TimeoutExpired:
            raise BackupError(f"rclone {args[0]} did not finish within {_RCLONE_TIMEOUT_SECONDS} s") from None
        if result.returncode != 0 and not (allow_not_found and result.returncode in _NOT_FOUND_EXIT_CODES):
            raise BackupError(f"rclone {args[0]} failed (exit {result.returncode}): {_last_line(result, self._environ)}")
        return result

    def _check_root(self) -> None:
        # fails for an unknown remote or bad credentials; a missing root is refused too, because rclone would
        # otherwise create buckets and folders on the fly and hide a typo in the bucket name
        result = self._run("lsf", "--max-depth", "1", self._root, allow_not_found=True)
        if result.returncode in _NOT_FOUND_EXIT_CODES:
            raise BackupError(f"{self.description} does not exist: create the bucket or folder first")

    def list_names(self, prefix: str) -> list[str]:
        folder = prefix.strip("/")
        result = self._run("lsf", "-R", "--files-only", self._path(folder), allow_not_found=True)
        if result.returncode != 0:
            return []
        base = f"{folder}/" if folder else ""
        return sorted(base + line for line in result.stdout.splitlines() if line)

    def exists(self, name: str) -> bool:
        result = self._run("lsjson", "--stat", self._path(name), allow_not_found=True)
        return result.returncode == 0

    def upload(self, local_path: Path, name: str, sha1: str) -> None:
        if self.exists(name):
            raise BackupError(f"refusing to overwrite existing object {name}")
        # --ignore-existing: should another writer race us, rclone skips rather than replaces (the verify then fails)
        self._run("copyto", "--ignore-existing", "--retries", "3", str(local_path), self._path(name))

    def stored_sha1(self, name: str) -> str:
        result = self._run("hashsum", "sha1", self._path(name))
        digest = result.stdout.split(maxsplit=1)[0] if result.stdout.strip() else ""
        if len(digest) != 40:
            # the remote keeps no SHA-1 (or not for this object): read it back and hash it
            result = self._run("hashsum", "sha1", "--download", self._path(name))
            digest = result.stdout.split(maxsplit=1)[0] if result.stdout.strip() else ""
        if len(digest) != 40:
            raise BackupError(f"rclone gave no SHA-1 for {name}")
        return digest.lower()

    def download(self, name: str, local_path: Path) -> None:
        self._run("copyto", self._path(name), str(local_path))

    def delete_tree(self, prefix: str) -> None:
        self._run("purge", self._path(prefix.strip("/")), allow_not_found=True)

    def remote_info(self) -> dict[str, str]:
        version = self._run("version").stdout.splitlines()
        return {"rclone": version[0] if version else "unknown"}


_RCLONE_TIMESTAMP = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")


def _last_line(result: subprocess.CompletedProcess[str], environ) -> str:
    """rclone's summary (its last line, without the timestamp): one line per failure in the sidecar's log, not rclone's
    retry-by-retry account of the same error."""
    lines = [line.strip() for line in (result.stderr or result.stdout or "").splitlines() if line.strip()]
    return redact(_RCLONE_TIMESTAMP.sub("", lines[-1]) if lines else "no output", environ)

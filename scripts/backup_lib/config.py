"""Everything configurable comes from the environment (cron's job sources it from /run, never from the image)."""
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import redis

from . import opencode_db
from .encryption import KEY_NAME, OLD_KEYS_NAME, BackupKeys, load_keys
from .errors import BackupError
from .rclone_remote import parse_remote
from .secret_env import resolve_secrets

# opencode: OpenCode's own database (sessions, messages, logins), read from this container's data directory
PARTS = ("falkordb", "valkey", "graphiti", "opencode")
DEFAULT_MEMORY_MANAGER = "/root/.opencode/graphiti/memory_manager.py"


@dataclass(frozen=True)
class RedisEndpoint:
    """A Redis-protocol server (FalkorDB or Valkey); the password never appears on a command line."""

    name: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(
            host=self.host,
            port=self.port,
            db=db,
            username=self.username,
            password=self.password,
            socket_timeout=60,
            socket_connect_timeout=10,
        )

    def redis_cli_args(self) -> list[str]:
        args = ["redis-cli", "-h", self.host, "-p", str(self.port), "--no-auth-warning"]
        if self.username:
            args += ["--user", self.username]
        return args

    def redis_cli_env(self, base: Mapping[str, str]) -> dict[str, str]:
        env = dict(base)
        env.pop("REDISCLI_AUTH", None)
        if self.password:
            env["REDISCLI_AUTH"] = self.password  # redis-cli reads it from env, unlike -a it is not visible in ps
        return env


# The pod's ports, as in the image's ENV: FalkorDB on 6379, Valkey on 6380.
DEFAULT_PORTS = {"falkordb": "6379", "valkey": "6380"}


def _endpoint(name: str, environ: Mapping[str, str]) -> RedisEndpoint:
    upper = name.upper()
    port_text = environ.get(f"{upper}_PORT") or DEFAULT_PORTS.get(name, "6379")
    try:
        port = int(port_text)
    except ValueError:
        raise BackupError(f"{upper}_PORT must be a port number, got {port_text!r}") from None
    return RedisEndpoint(
        name=name,
        host=environ.get(f"{upper}_HOST") or "localhost",
        port=port,
        username=environ.get(f"{upper}_USERNAME") or None,
        password=environ.get(f"{upper}_PASSWORD") or None,
    )


def parse_parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        raise BackupError(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    if not parts:
        raise BackupError("no part chosen")
    return [part for part in PARTS if part in parts]


def parse_groups(text: str | None) -> list[str] | None:
    if not text:
        return None
    return [group.strip() for group in text.split(",") if group.strip()] or None


@dataclass(frozen=True)
class Settings:
    falkordb: RedisEndpoint
    valkey: RedisEndpoint
    target: str  # "b2" or "rclone"
    prefix: str
    retention_days: int
    groups: list[str] | None
    parts: list[str]
    memory_manager: str
    memory_manager_python: str
    opencode_db: Path
    opencode_bin: str
    keys: BackupKeys = field(repr=False)
    # what the child processes (redis-cli, rclone, the memory manager) get: NAME_FILE secrets resolved to NAME, and
    # without the encryption keys, which no child needs
    environ: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        # secrets first: a doubled, missing or malformed one stops everything before a server or the remote is touched
        environ = resolve_secrets(os.environ if environ is None else environ)
        keys = load_keys(environ)
        for name in (KEY_NAME, OLD_KEYS_NAME):
            environ.pop(name, None)
        target = (environ.get("BACKUP_TARGET") or "b2").lower()
        if target not in ("b2", "rclone"):
            raise BackupError(f"BACKUP_TARGET must be 'b2' or 'rclone', got {target!r}")
        if target == "rclone" and environ.get("BACKUP_RCLONE_REMOTE"):
            parse_remote(environ["BACKUP_RCLONE_REMOTE"])  # malformed: exit 78 now; credentials: registered for redaction
        retention_text = environ.get("BACKUP_RETENTION_DAYS") or "14"
        try:
            retention_days = int(retention_text)
        except ValueError:
            raise BackupError(f"BACKUP_RETENTION_DAYS must be a whole number of days, got {retention_text!r}") from None
        if retention_days < 1:
            raise BackupError("BACKUP_RETENTION_DAYS must be at least 1")
        return cls(
            falkordb=_endpoint("falkordb", environ),
            valkey=_endpoint("valkey", environ),
            target=target,
            prefix=(environ.get("BACKUP_PREFIX") or "opencode-server").strip("/"),
            retention_days=retention_days,
            groups=parse_groups(environ.get("BACKUP_GROUPS")),
            parts=parse_parts(environ.get("BACKUP_PARTS") or ",".join(PARTS)),
            memory_manager=environ.get("MEMORY_MANAGER") or DEFAULT_MEMORY_MANAGER,
            memory_manager_python=environ.get("MEMORY_MANAGER_PYTHON") or sys.executable,
            opencode_db=opencode_db.default_path(environ),
            opencode_bin=environ.get("OPENCODE_BIN") or "opencode",
            keys=keys,
            environ=environ,
        )

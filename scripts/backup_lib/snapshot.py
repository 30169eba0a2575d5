"""Take the data out of a running Redis-protocol server: an RDB (point in time) and a per-key DUMP file.

The RDB comes from `redis-cli --rdb`, which asks the server for a replication snapshot; FalkorDB's graphs are
in it because the module serialises its keys into the RDB. It is kept for disaster recovery (placed as dump.rdb in
a stopped server). Restoring into a *running* server uses the key file instead: one JSON line per key with the
server's own DUMP payload (module types included), replayed with RESTORE.
"""
import base64
import gzip
import json
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import redis

from .config import RedisEndpoint
from .errors import BackupError
from .redaction import redact

_RDB_TIMEOUT_SECONDS = 3600
_SCAN_BATCH = 500
KEY_FILE_FORMAT = "opencode-server-keydump/1"


def dump_rdb(endpoint: RedisEndpoint, destination: Path, environ: Mapping[str, str]) -> None:
    try:
        result = subprocess.run(
            [*endpoint.redis_cli_args(), "--rdb", str(destination)],
            env=endpoint.redis_cli_env(environ),
            capture_output=True,
            text=True,
            timeout=_RDB_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise BackupError("redis-cli is not installed") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{endpoint.name}: redis-cli --rdb did not finish within {_RDB_TIMEOUT_SECONDS} s") from None
    output = redact((result.stderr + result.stdout).strip(), environ)
    # redis-cli can exit 0 after an AUTH error, so the file itself is the proof
    if result.returncode != 0 or not destination.exists() or not _looks_like_rdb(destination):
        raise BackupError(f"{endpoint.name}: RDB snapshot from {endpoint.host}:{endpoint.port} failed: {output}")


def _looks_like_rdb(path: Path) -> bool:
    with open(path, "rb") as stream:
        return stream.read(5) == b"REDIS" and path.stat().st_size > 9


def _databases(client: redis.Redis) -> list[int]:
    keyspace = client.info("keyspace")
    return sorted(int(name[2:]) for name in keyspace if name.startswith("db"))


def dump_keys(endpoint: RedisEndpoint, destination: Path) -> int:
    """Write every key as {db, key, dump, expire_at_ms} (base64); returns the number of keys written."""
    written = 0
    try:
        databases = _databases(endpoint.client())
        with gzip.open(destination, "wt", encoding="utf-8") as stream:
            stream.write(json.dumps({"format": KEY_FILE_FORMAT, "server": endpoint.name}) + "\n")
            for db in databases:
                client = endpoint.client(db)
                batch: list[bytes] = []
                for key in client.scan_iter(count=_SCAN_BATCH):
                    batch.append(key)
                    if len(batch) >= _SCAN_BATCH:
                        written += _write_batch(client, db, batch, stream)
                        batch = []
                written += _write_batch(client, db, batch, stream)
    except redis.RedisError as error:
        raise BackupError(f"{endpoint.name}: key dump from {endpoint.host}:{endpoint.port} failed: {error}") from None
    return written


def _write_batch(client: redis.Redis, db: int, keys: list[bytes], stream) -> int:
    if not keys:
        return 0
    pipeline = client.pipeline(transaction=False)
    for key in keys:
        pipeline.dump(key)
        pipeline.pttl(key)
    replies = pipeline.execute()
    now_ms = int(time.time() * 1000)
    written = 0
    for index, key in enumerate(keys):
        payload, ttl_ms = replies[2 * index], replies[2 * index + 1]
        if payload is None:  # deleted between SCAN and DUMP
            continue
        record = {
            "db": db,
            "key": base64.b64encode(key).decode("ascii"),
            "dump": base64.b64encode(payload).decode("ascii"),
            "expire_at_ms": now_ms + ttl_ms if ttl_ms and ttl_ms > 0 else None,
        }
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        written += 1
    return written


def read_key_file(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        header = json.loads(stream.readline() or "{}")
        if header.get("format") != KEY_FILE_FORMAT:
            raise BackupError(f"{path.name} is not a key dump of format {KEY_FILE_FORMAT}")
        for line in stream:
            if line.strip():
                yield json.loads(line)


def server_versions(endpoint: RedisEndpoint) -> dict[str, object]:
    client = endpoint.client()
    try:
        info = client.info("server")
        versions: dict[str, object] = {
            "server": info.get("server_name") or "redis",
            "version": info.get("valkey_version") or info.get("redis_version"),
            "redis_version": info.get("redis_version"),
        }
        try:
            modules = client.execute_command("MODULE", "LIST")
        except redis.ResponseError:
            modules = []
        versions["modules"] = {
            _text(module[b"name"] if isinstance(module, dict) else _pairs(module)[b"name"]): (
                module[b"ver"] if isinstance(module, dict) else _pairs(module)[b"ver"]
            )
            for module in modules
        }
        return versions
    except redis.RedisError as error:
        raise BackupError(f"{endpoint.name}: cannot reach {endpoint.host}:{endpoint.port}: {error}") from None


def _pairs(flat: list) -> dict:
    return dict(zip(flat[0::2], flat[1::2]))


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

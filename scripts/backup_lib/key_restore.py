"""Replay a key dump into a running server with RESTORE (works for FalkorDB graphs: the module restores its type)."""
import base64
import time
from collections import defaultdict
from pathlib import Path

import redis

from .config import RedisEndpoint
from .errors import BackupError
from .snapshot import read_key_file

_PIPELINE_BYTES = 8 * 1024 * 1024


def conflicting_keys(endpoint: RedisEndpoint, key_file: Path, limit: int = 5) -> list[str]:
    """Keys of the backup that already exist in the target (at most `limit` of them, for the message)."""
    keys_by_db: dict[int, list[bytes]] = defaultdict(list)
    for record in read_key_file(key_file):
        keys_by_db[record["db"]].append(base64.b64decode(record["key"]))
    found: list[str] = []
    try:
        for db, keys in keys_by_db.items():
            client = endpoint.client(db)
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                pipeline = client.pipeline(transaction=False)
                for key in chunk:
                    pipeline.exists(key)
                for key, exists in zip(chunk, pipeline.execute()):
                    if exists:
                        found.append(key.decode("utf-8", "replace"))
                        if len(found) >= limit:
                            return found
    except redis.RedisError as error:
        raise BackupError(f"{endpoint.name}: cannot reach {endpoint.host}:{endpoint.port}: {error}") from None
    return found


def wipe(endpoint: RedisEndpoint) -> None:
    try:
        endpoint.client().flushall()
    except redis.RedisError as error:
        raise BackupError(f"{endpoint.name}: FLUSHALL failed: {error}") from None


def restore_keys(endpoint: RedisEndpoint, key_file: Path, replace: bool) -> int:
    restored = 0
    clients: dict[int, redis.Redis] = {}
    pending: dict[int, list[dict]] = defaultdict(list)
    pending_bytes = 0

    def flush() -> int:
        count = 0
        for db, records in pending.items():
            client = clients.setdefault(db, endpoint.client(db))
            pipeline = client.pipeline(transaction=False)
            now_ms = int(time.time() * 1000)
            for record in records:
                expire_at = record["expire_at_ms"]
                if expire_at is not None and expire_at <= now_ms:
                    continue  # it would have expired by now on the original server too
                pipeline.restore(
                    base64.b64decode(record["key"]),
                    expire_at or 0,
                    base64.b64decode(record["dump"]),
                    replace=replace,
                    absttl=expire_at is not None,
                )
                count += 1
            pipeline.execute()
        pending.clear()
        return count

    try:
        for record in read_key_file(key_file):
            pending[record["db"]].append(record)
            pending_bytes += len(record["dump"])
            if pending_bytes >= _PIPELINE_BYTES:
                restored += flush()
                pending_bytes = 0
        restored += flush()
    except redis.ResponseError as error:
        raise BackupError(f"{endpoint.name}: RESTORE refused: {error}") from None
    except redis.RedisError as error:
        raise BackupError(f"{endpoint.name}: restore into {endpoint.host}:{endpoint.port} failed: {error}") from None
    return restored

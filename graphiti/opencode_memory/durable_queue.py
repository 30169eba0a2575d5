"""The durable ingest queue: a Valkey stream read by one consumer group, plus a dead-letter stream.

An entry leaves the stream only after graphiti stored it (XACK + XDEL in one transaction) or after
it was copied to the dead-letter stream with its error. So a crash at any point leaves it pending,
and the next start claims it back (XAUTOCLAIM).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from .config import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueuedEntry:
    entry_id: str
    # None: read far ahead and not kept in memory; DurableQueue.fields_of reads it again
    fields: dict[str, str] | None


def connect_valkey(settings: Settings) -> Redis:
    return Redis(
        host=settings.valkey_host,
        port=settings.valkey_port,
        password=settings.valkey_password,
        decode_responses=True,
        socket_connect_timeout=5,
        socket_timeout=30,
        health_check_interval=30,
    )


class DurableQueue:
    def __init__(self, valkey: Redis, settings: Settings) -> None:
        self.valkey = valkey
        self.stream = settings.stream_key
        self.dead_letters = settings.dead_letter_key
        self.attempts = settings.attempts_key
        self.group = settings.consumer_group
        self.consumer = settings.consumer_name

    async def ensure_consumer_group(self) -> None:
        try:
            await self.valkey.xgroup_create(self.stream, self.group, id='0', mkstream=True)
        except ResponseError as error:
            if 'BUSYGROUP' not in str(error):
                raise

    async def enqueue(self, fields: dict[str, str]) -> str:
        """Returns once Valkey has the entry (the caller's 202 means 'durably queued')."""
        return str(await self.valkey.xadd(self.stream, fields))

    async def claim_abandoned(self, min_idle_ms: int = 0) -> int:
        """Take over entries another (crashed) consumer read but never acknowledged."""
        claimed = 0
        cursor = '0-0'
        while True:
            reply = await self.valkey.xautoclaim(
                self.stream, self.group, self.consumer, min_idle_time=min_idle_ms, start_id=cursor, count=100
            )
            cursor, entries = reply[0], reply[1]
            claimed += len(entries)
            if cursor in ('0-0', b'0-0'):
                return claimed

    async def pending_pages(self) -> AsyncIterator[list[QueuedEntry]]:
        """Every entry this consumer read and never acknowledged (an earlier run's, or claimed), in stream order, a
        hundred at a time."""
        cursor = '0'
        while True:
            reply = await self.valkey.xreadgroup(self.group, self.consumer, {self.stream: cursor}, count=100)
            entries = [entry for _stream, batch in reply or [] for entry in batch]
            if not entries:
                return
            page: list[QueuedEntry] = []
            for entry_id, fields in entries:
                if fields is None:  # deleted while pending: drop the stale reference
                    await self.valkey.xack(self.stream, self.group, entry_id)
                else:
                    page.append(QueuedEntry(entry_id, fields))
            yield page
            cursor = entries[-1][0]

    async def fields_of(self, entry_id: str) -> dict[str, str] | None:
        """An entry's fields read again (the worker keeps only the ids of what it read far ahead); None if gone."""
        found = await self.valkey.xrange(self.stream, min=entry_id, max=entry_id, count=1)
        return found[0][1] if found else None

    async def new_entry(self, block_ms: int) -> QueuedEntry | None:
        """The next entry nobody has read yet, waiting up to block_ms for one."""
        reply = await self.valkey.xreadgroup(self.group, self.consumer, {self.stream: '>'}, count=1, block=block_ms)
        for _stream, entries in reply or []:
            for entry_id, fields in entries:
                return QueuedEntry(entry_id, fields)
        return None

    async def record_attempt(self, entry_id: str) -> int:
        return int(await self.valkey.hincrby(self.attempts, entry_id, 1))

    async def complete(self, entry_id: str) -> None:
        async with self.valkey.pipeline(transaction=True) as pipe:
            pipe.xack(self.stream, self.group, entry_id)
            pipe.xdel(self.stream, entry_id)
            pipe.hdel(self.attempts, entry_id)
            await pipe.execute()

    async def dead_letter(self, entry: QueuedEntry, error: str, attempts: int) -> str:
        record = {
            **entry.fields,
            'original_id': entry.entry_id,
            'error': error[:2000],
            'attempts': str(attempts),
            'failed_at': str(time.time()),
        }
        async with self.valkey.pipeline(transaction=True) as pipe:
            pipe.xadd(self.dead_letters, record)
            pipe.xack(self.stream, self.group, entry.entry_id)
            pipe.xdel(self.stream, entry.entry_id)
            pipe.hdel(self.attempts, entry.entry_id)
            results = await pipe.execute()
        return str(results[0])

    async def backlog(self) -> int:
        """Entries not yet stored (pending or not yet read): completed ones are deleted."""
        return int(await self.valkey.xlen(self.stream))

    async def expire_dead_letters(self, max_age_seconds: float) -> int:
        """Deletes dead letters older than the age (stream ids begin with their time in ms); returns how many."""
        oldest_kept_ms = int((time.time() - max_age_seconds) * 1000)
        return int(await self.valkey.xtrim(self.dead_letters, minid=f'{oldest_kept_ms}-0', approximate=False))

    async def dead_letter_count(self) -> int:
        return int(await self.valkey.xlen(self.dead_letters))

    async def dead_letter_entries(self, count: int = 100) -> list[QueuedEntry]:
        entries = await self.valkey.xrange(self.dead_letters, count=count)
        return [QueuedEntry(entry_id, fields) for entry_id, fields in entries]

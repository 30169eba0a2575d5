"""The ingest worker: episodes of different projects (groups) are ingested at once, up to MEMORY_INGEST_CONCURRENCY;
one project's episodes are stored in the order they were queued (a lane per group), those waiting together in one
graphiti pass of up to MEMORY_INGEST_BATCH."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time

from .config import Settings
from .durable_queue import DurableQueue, QueuedEntry
from .episodes import EpisodeRequest, BadRequest
from .failures import describe, is_outage
from .graph_store import GraphStore
from .metrics import Metrics, stream_entry_age_seconds
from .outage_report import OutageReport
from .tracing import traced

logger = logging.getLogger(__name__)
# Expiry runs a few times per max age, at most once a minute.
DEAD_LETTER_EXPIRY_INTERVAL_SECONDS = 60.0


class IngestWorker:
    def __init__(self, queue: DurableQueue, store: GraphStore, settings: Settings, metrics: Metrics | None = None) -> None:
        self.queue = queue
        self.metrics = metrics or Metrics({})
        self.store = store
        self.settings = settings
        self.stored_count = 0
        self.duplicate_count = 0
        self.dead_letter_count = 0
        self.valkey_outage = OutageReport(
            logger, 'Valkey', f'{settings.valkey_host}:{settings.valkey_port}',
            f'backing off to every {settings.retry_max_seconds:.0f}s; episodes are not queued until then',
        )

    def backoff_seconds(self, failures: int) -> float:
        base = self.settings.retry_base_seconds * (2 ** min(failures - 1, 16))
        return min(self.settings.retry_max_seconds, base) * random.uniform(0.8, 1.2)

    async def run(self, stop: asyncio.Event) -> None:
        failures = 0
        while not stop.is_set():
            try:
                await self.queue.ensure_consumer_group()
                claimed = await self.queue.claim_abandoned()
                if claimed:
                    logger.info('claimed %d unacknowledged episode(s) from an earlier run', claimed)
                break
            except Exception as error:
                failures += 1
                delay = self.backoff_seconds(failures)
                self.valkey_outage.failed(error, delay)
                await _sleep_unless_stopped(stop, delay)
        if not stop.is_set():
            self.valkey_outage.recovered()
        await self._dispatch(stop)

    async def _dispatch(self, stop: asyncio.Event) -> None:
        """Reads the queue in order, as fast as it fills, and hands each entry to its group's lane, so one project
        flooding the queue never holds back another's episodes queued behind it. Up to `held_limit` entries waiting
        in lanes keep their fields; past that a lane keeps only the id and reads the fields again when it gets to it
        (memory stays bounded however deep the flood). Entries read and not acknowledged stay pending in Valkey and
        are read again (pending_pages) on the next start."""
        concurrency, batch_size = self.settings.ingest_concurrency, self.settings.ingest_batch
        ingesting = asyncio.Semaphore(concurrency)
        held_limit = concurrency * max(4, batch_size * 2)
        held = 0
        lanes: dict[str, asyncio.Queue[QueuedEntry]] = {}
        lane_tasks: set[asyncio.Task[None]] = set()

        async def lane(group_id: str, entries: asyncio.Queue[QueuedEntry]) -> None:
            nonlocal held
            try:
                while not stop.is_set():
                    batch = [await entries.get()]
                    try:
                        async with ingesting:
                            # what queued meanwhile, taken only now: while this lane waited for its turn, more came
                            while len(batch) < batch_size and not entries.empty():
                                batch.append(entries.get_nowait())
                            await self.process_batch(await self._with_fields(batch, stop), stop)
                    finally:
                        held -= sum(1 for entry in batch if entry.fields is not None)
                    if entries.empty():  # no await since the check: the dispatcher cannot add to it meanwhile
                        del lanes[group_id]
                        return
            finally:
                if lanes.get(group_id) is entries:  # stopped or cancelled with entries left: they stay pending
                    del lanes[group_id]

        async def hand_over(entry: QueuedEntry) -> None:
            nonlocal held
            try:
                group_id = EpisodeRequest.from_stream_fields(entry.fields or {}).group_id
            except BadRequest as error:
                await self._dead_letter(entry, None, f'BadRequest: {error}', attempts=1)
                return
            if held >= held_limit:
                entry = QueuedEntry(entry.entry_id, None)
            else:
                held += 1
            entries = lanes.get(group_id)
            if entries is None:
                entries = lanes[group_id] = asyncio.Queue()
                task = asyncio.create_task(lane(group_id, entries), name=f'ingest-lane-{group_id}')
                lane_tasks.add(task)
                task.add_done_callback(lane_tasks.discard)
            entries.put_nowait(entry)

        failures = 0
        next_expiry = 0.0
        recovered = False
        try:
            while not stop.is_set():
                try:
                    if time.monotonic() >= next_expiry:
                        await self.expire_dead_letters()
                        next_expiry = time.monotonic() + min(
                            DEAD_LETTER_EXPIRY_INTERVAL_SECONDS, max(1.0, self.settings.dead_letter_max_age_seconds / 4))
                    if not recovered:
                        async for page in self.queue.pending_pages():
                            for entry in page:
                                await hand_over(entry)
                        recovered = True
                        continue
                    entry = await self.queue.new_entry(block_ms=1000)
                    failures = 0
                    self.valkey_outage.recovered()
                    if entry is not None:
                        await hand_over(entry)
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    failures += 1
                    delay = self.backoff_seconds(failures)
                    if is_outage(error):
                        self.valkey_outage.failed(error, delay)
                    else:
                        logger.warning('ingest loop: %s; retrying in %.1fs', describe(error), delay)
                    await _sleep_unless_stopped(stop, delay)
            # Stopping: each lane finishes (or abandons, leaving it pending) the episode it is on.
            await asyncio.gather(*lane_tasks, return_exceptions=True)
        finally:
            for task in lane_tasks:
                task.cancel()

    async def _with_fields(self, batch: list[QueuedEntry], stop: asyncio.Event) -> list[QueuedEntry]:
        """The batch with every entry's fields, those kept only by id read again (waiting out a Valkey outage);
        an entry gone from the stream meanwhile is left out."""
        ready: list[QueuedEntry] = []
        for entry in batch:
            outages = 0
            while entry.fields is None and not stop.is_set():
                try:
                    fields = await self.queue.fields_of(entry.entry_id)
                except Exception as error:
                    if not is_outage(error):
                        raise
                    outages += 1
                    delay = self.backoff_seconds(outages)
                    self.valkey_outage.failed(error, delay)
                    await _sleep_unless_stopped(stop, delay)
                    continue
                if fields is None:
                    break
                entry = QueuedEntry(entry.entry_id, fields)
            if entry.fields is not None:
                ready.append(entry)
        return ready

    async def expire_dead_letters(self) -> None:
        expired = await self.queue.expire_dead_letters(self.settings.dead_letter_max_age_seconds)
        if expired:
            logger.info('deleted %d dead letter(s) older than %.0f s (MEMORY_DEAD_LETTER_MAX_AGE_SECONDS)',
                        expired, self.settings.dead_letter_max_age_seconds)

    async def process_batch(self, entries: list[QueuedEntry], stop: asyncio.Event) -> None:
        """One project's episodes, in the order queued, in one graphiti pass. An outage is waited out; any other
        failure sends each episode through process() alone, so one bad episode is retried and dead-lettered by
        itself and never holds back the others."""
        if not entries:
            return
        if len(entries) == 1:
            await self.process(entries[0], stop)
            return
        batch: list[tuple[QueuedEntry, EpisodeRequest, str]] = []
        for entry in entries:
            try:
                request = EpisodeRequest.from_stream_fields(entry.fields)
            except BadRequest as error:
                await self._dead_letter(entry, None, f'BadRequest: {error}', attempts=1)
                continue
            batch.append((entry, request, request.episode_uuid(entry.entry_id)))
        if not batch:
            return
        group_id = batch[0][1].group_id
        outages = 0
        while not stop.is_set():
            try:
                with traced('memory.ingest', group_id=group_id) as span:
                    span.set('memory.batch_size', len(batch))
                    async with self.store.write_lock(group_id):
                        stored = await self.store.store_episodes([(request, uuid) for _, request, uuid in batch])
                    for entry, _, _ in batch:
                        await self.queue.complete(entry.entry_id)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_outage(error):
                    outages += 1
                    delay = self.backoff_seconds(outages)
                    logger.warning('%d episodes of group %s wait for an outage to end: %s; retry in %.1fs',
                                   len(batch), group_id, describe(error), delay)
                    await _sleep_unless_stopped(stop, delay)
                    continue
                logger.warning('%d episodes of group %s failed together (%s); storing them one at a time',
                               len(batch), group_id, describe(error))
                for entry, _, _ in batch:
                    await self.process(entry, stop)
                return
            for (entry, _, episode_uuid), was_stored in zip(batch, stored):
                self._count(entry, group_id, episode_uuid, was_stored)
            return

    def _count(self, entry: QueuedEntry, group_id: str, episode_uuid: str, stored: bool) -> None:
        if stored:
            self.stored_count += 1
            self.metrics.increment('episodes.stored')
            self.metrics.histogram('ingestion_lag', stream_entry_age_seconds(entry.entry_id, time.time()))
            logger.info('stored episode %s as %s in group %s', entry.entry_id, episode_uuid, group_id)
        else:
            self.duplicate_count += 1
            logger.info('episode %s was already stored as %s; acknowledged', entry.entry_id, episode_uuid)

    async def process(self, entry: QueuedEntry, stop: asyncio.Event) -> None:
        outages = 0
        while not stop.is_set():
            try:
                request = EpisodeRequest.from_stream_fields(entry.fields)
            except BadRequest as error:
                await self._dead_letter(entry, None, f'BadRequest: {error}', attempts=1)
                return
            episode_uuid = request.episode_uuid(entry.entry_id)
            try:
                with traced('memory.ingest', group_id=request.group_id) as span:
                    span.set('memory.queue_entry', entry.entry_id)
                    async with self.store.write_lock(request.group_id):
                        stored = await self.store.store_episode(request, episode_uuid)
                    await self.queue.complete(entry.entry_id)
                    span.set('memory.stored', stored)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if is_outage(error):
                    outages += 1
                    delay = self.backoff_seconds(outages)
                    logger.warning(
                        'episode %s (group %s) waits for an outage to end: %s; retry in %.1fs',
                        entry.entry_id, request.group_id, describe(error), delay,
                    )
                    await _sleep_unless_stopped(stop, delay)
                    continue
                attempts = await self.queue.record_attempt(entry.entry_id)
                if attempts >= self.settings.max_attempts:
                    await self._dead_letter(entry, request, describe(error), attempts, episode_uuid)
                    return
                delay = self.backoff_seconds(attempts)
                logger.warning(
                    'episode %s (group %s) failed attempt %d/%d: %s; retry in %.1fs',
                    entry.entry_id, request.group_id, attempts, self.settings.max_attempts, describe(error), delay,
                )
                await _sleep_unless_stopped(stop, delay)
                continue
            self._count(entry, request.group_id, episode_uuid, stored)
            return

    async def _dead_letter(
        self,
        entry: QueuedEntry,
        request: EpisodeRequest | None,
        error: str,
        attempts: int,
        episode_uuid: str | None = None,
    ) -> None:
        if request is not None and episode_uuid is not None:
            with contextlib.suppress(Exception):
                await self.store.discard_reserved_episode(request.group_id, episode_uuid)
        dead_id = await self.queue.dead_letter(entry, error, attempts)
        self.dead_letter_count += 1
        logger.error(
            'episode %s dead-lettered as %s after %d attempt(s): %s', entry.entry_id, dead_id, attempts, error
        )


async def _sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

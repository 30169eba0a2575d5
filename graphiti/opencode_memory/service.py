"""The memory service: what each HTTP route does, independent of HTTP."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

from .config import Settings
from .durable_queue import DurableQueue, connect_valkey
from .episodes import BadRequest, EpisodeRequest, clean_text, parse_episode_request
from .graph_store import GraphStore
from .group_ids import resolve_group_id
from .ingest_worker import IngestWorker
from .metrics import Metrics
from .portability import export_group, import_group
from .search_loop import SearchLoop
from .secret_scrub import PRIVATE_REMOVED, REMOVED, scrub
from .tracing import traced

logger = logging.getLogger(__name__)
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
# The plugin sends at most this much (recall truncates the user's message to it); a longer query is refused
# rather than silently cut, so a client learns its query was not what was searched.
MAX_QUERY_CHARS = 2000
HEALTH_CHECK_SECONDS = 0.8


def _group_from(body: dict[str, Any]) -> str:
    try:
        group_id = resolve_group_id(body.get('group_id'), body.get('project_dir'))
    except ValueError as error:
        raise BadRequest(str(error)) from error
    if '-' in group_id:
        logger.warning('group id %s contains "-": graphiti on FalkorDB cannot keyword-search it (graphiti #1483)', group_id)
    return group_id


def scrub_episode(request: EpisodeRequest) -> EpisodeRequest:
    """The episode as it may be kept: secrets and `<private>` spans out of its text and name (counts logged, never
    what was removed)."""
    content, name = scrub(request.content), scrub(request.name)
    removed = content.secrets_removed + name.secrets_removed
    private = content.private_spans_removed + name.private_spans_removed
    if removed or private:
        logger.info('removed %d secret(s) and %d <private> span(s) from an episode for group %s',
                    removed, private, request.group_id)
    if content.unclosed_private_span or name.unclosed_private_span:
        logger.warning('an episode for group %s opens <private> without closing it: everything after it was dropped',
                       request.group_id)
    if not content.text.replace(PRIVATE_REMOVED, '').replace(REMOVED, '').strip():
        raise BadRequest('content is empty once its <private> spans and secrets are removed')
    return replace(request, content=content.text, name=name.text)


class MemoryService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.valkey = connect_valkey(settings)
        self.queue = DurableQueue(self.valkey, settings)
        self.store = GraphStore(settings)
        self.searches = SearchLoop(settings)
        self.metrics = Metrics()
        self.worker = IngestWorker(self.queue, self.store, settings, self.metrics)

    async def close(self) -> None:
        self.metrics.close()
        self.searches.stop()
        await self.store.close()
        await self.valkey.aclose()

    async def enqueue_episode(self, body: Any) -> dict[str, Any]:
        request = scrub_episode(parse_episode_request(body, self.settings.max_episode_bytes))
        with traced('memory.enqueue', group_id=request.group_id):
            entry_id = await self.queue.enqueue(request.to_stream_fields())
            # inside the span: under ddtrace-run the line carries its trace id (logging_setup.py)
            logger.info(
                'queued episode %s for group %s (%d bytes)', entry_id, request.group_id, len(request.content.encode())
            )
        return {'queued': entry_id, 'group_id': request.group_id}

    async def search(self, body: Any) -> dict[str, Any]:
        """Runs on the search loop (SearchLoop), apart from ingestion."""
        if not isinstance(body, dict):
            raise BadRequest('the body must be a JSON object')
        group_id = _group_from(body)
        query = body.get('query')
        if not isinstance(query, str) or not query.strip():
            raise BadRequest('query must be a non-empty string')
        if len(query) > MAX_QUERY_CHARS:
            raise BadRequest(f'query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}')
        limit = body.get('limit', DEFAULT_SEARCH_LIMIT)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_SEARCH_LIMIT:
            raise BadRequest(f'limit must be an integer from 1 to {MAX_SEARCH_LIMIT}')
        started = time.monotonic()
        with traced('memory.search', group_id=group_id, **{'memory.limit': limit}):
            found = await self.searches.store.search(group_id, clean_text(query), limit)
        self.metrics.increment('recall.requests')
        self.metrics.histogram('recall.latency', (time.monotonic() - started) * 1000)
        return found

    async def report_gauges(self) -> None:
        """The queue's depth and the dead letters, for DogStatsD (metrics.py); nothing when no agent is configured."""
        if self.metrics.enabled:
            self.metrics.gauge('queue.depth', await self.queue.backlog())
            self.metrics.gauge('dead_letters', await self.queue.dead_letter_count())

    async def forget(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise BadRequest('the body must be a JSON object')
        group_id = _group_from(body)
        item_uuid = body.get('uuid')
        if not isinstance(item_uuid, str) or not item_uuid or len(item_uuid) > 64:
            raise BadRequest('uuid must be a string')
        with traced('memory.forget', group_id=group_id):
            async with self.store.write_lock(group_id):
                kind = await self.store.forget(group_id, item_uuid)
        logger.info('forgot %s %s in group %s', kind, item_uuid, group_id)
        return {'forgotten': item_uuid, 'kind': kind}

    async def export(self, query: dict[str, Any]) -> dict[str, Any]:
        group_id = _group_from(query)
        with traced('memory.export', group_id=group_id):
            return await export_group(self.store, group_id)

    async def import_document(self, query: dict[str, Any], document: Any) -> dict[str, Any]:
        if query.get('group_id') or query.get('project_dir'):
            group_id = _group_from(query)
        elif isinstance(document, dict):
            group_id = _group_from({'group_id': document.get('group_id')})
        else:
            raise BadRequest('the body must be an export document')
        with traced('memory.import', group_id=group_id):
            async with self.store.write_lock(group_id):
                counts = await import_group(self.store, group_id, document)
        logger.info('imported group %s: %s', group_id, counts)
        return {'imported': counts, 'group_id': group_id}

    async def health(self) -> dict[str, Any]:
        # Bounded: the plugin's probe gives up after a second, and a server that is down must not make /health slow
        # (a slow answer would read as a hung process and get it restarted).
        with traced('memory.health'):
            falkordb_ok, (valkey_ok, pending, dead_letters) = await asyncio.gather(
                self.store.ping(timeout=HEALTH_CHECK_SECONDS), self._valkey_health())
        return {
            'status': 'ok' if falkordb_ok and valkey_ok else 'degraded',
            'falkordb': falkordb_ok,
            'valkey': valkey_ok,
            'pending': pending,
            'dead_letters': dead_letters,
            'stored': self.worker.stored_count,
            'duplicates_skipped': self.worker.duplicate_count,
            'llm_client': self.store.models.llm_client_kind,
        }

    async def _valkey_health(self) -> tuple[bool, int, int]:
        async def check() -> tuple[bool, int, int]:
            ok = bool(await self.valkey.ping())
            return ok, await self.queue.backlog(), await self.queue.dead_letter_count()
        try:
            return await asyncio.wait_for(check(), timeout=HEALTH_CHECK_SECONDS)
        except Exception:
            return False, -1, -1

"""Graphiti on FalkorDB: one graph per group id, episodes stored exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from typing import Any

from .bootstrap import prepare_graphiti_import

prepare_graphiti_import()

from falkordb.asyncio import FalkorDB  # noqa: E402
from redis.asyncio import BlockingConnectionPool  # noqa: E402
from graphiti_core import Graphiti  # noqa: E402
from graphiti_core.driver.falkordb_driver import FalkorDriver  # noqa: E402
from graphiti_core.edges import EntityEdge  # noqa: E402
from graphiti_core.nodes import EntityNode, EpisodeType, EpisodicNode  # noqa: E402
from graphiti_core.search.search_config import (  # noqa: E402
    EdgeReranker,
    EdgeSearchConfig,
    EdgeSearchMethod,
    EpisodeReranker,
    EpisodeSearchConfig,
    EpisodeSearchMethod,
    SearchConfig,
)
from graphiti_core.search.search_utils import RELEVANT_SCHEMA_LIMIT  # noqa: E402
from graphiti_core.utils.bulk_utils import RawEpisode  # noqa: E402
from graphiti_core.utils.datetime_utils import utc_now  # noqa: E402

from .batch_invalidation import invalidate_within_batch  # noqa: E402
from .config import Settings  # noqa: E402
from .failures import describe  # noqa: E402
from .episodes import EpisodeRequest  # noqa: E402
from .graph_search import ensure_vector_index, search_group  # noqa: E402
from .model_clients import ModelClients, build_model_clients  # noqa: E402

logger = logging.getLogger(__name__)

# Set on an episode once graphiti finished with it: an episode without it was only reserved.
STORED_MARK = 'opencode_memory_stored'
# Connections to FalkorDB per process part (ingestion, searches); more queries wait for one to be free.
FALKORDB_MAX_CONNECTIONS = 32
# Query embeddings remembered: a session's turns often search the same words again.
QUERY_VECTOR_CACHE_SIZE = 1024


class NotFound(LookupError):
    pass


def _iso(value: Any) -> str | None:
    return value.isoformat() if hasattr(value, 'isoformat') else value


class GraphStore:
    def __init__(self, settings: Settings, model_clients: ModelClients | None = None) -> None:
        self.settings = settings
        self.models = model_clients or build_model_clients(settings)
        # Made on first use: the FalkorDB client connects in its constructor, and a FalkorDB that is down (or not yet
        # up) must make this process degraded and retrying, not crash it.
        self._base_driver: FalkorDriver | None = None
        self._connect_lock = asyncio.Lock()
        self._graphs: dict[str, Graphiti] = {}
        self._indexed: set[str] = set()
        # Writers of one group (the ingest worker, forget, import) take turns; groups are separate graphs, written at once.
        self._write_locks: dict[str, asyncio.Lock] = {}
        self._query_vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._embedding: dict[str, asyncio.Task[list[float]]] = {}
        self._embedding_failure_logged = float('-inf')

    def write_lock(self, group_id: str) -> asyncio.Lock:
        return self._write_locks.setdefault(group_id, asyncio.Lock())

    async def close(self) -> None:
        for graphiti in self._graphs.values():
            with contextlib.suppress(Exception):
                init_task = getattr(graphiti.driver, '_init_task', None)
                if init_task is not None and not init_task.done():
                    init_task.cancel()
        if self._base_driver is not None:
            with contextlib.suppress(Exception):
                await self._base_driver.close()

    def _new_falkor_client(self) -> FalkorDB:
        settings = self.settings
        # Own client so a hung FalkorDB times out (and is retried) instead of blocking the worker forever. A pool that
        # waits for a free connection: graphiti's bulk pass on a large graph runs more queries at once than redis-py's
        # default pool holds (100), and its "Too many connections" would read as an outage, retried forever.
        pool = BlockingConnectionPool(
            host=settings.falkordb_host,
            port=settings.falkordb_port,
            username=settings.falkordb_username,
            password=settings.falkordb_password,
            socket_timeout=settings.request_timeout_seconds,
            socket_connect_timeout=5,
            max_connections=FALKORDB_MAX_CONNECTIONS,
            timeout=settings.request_timeout_seconds,
            decode_responses=True,  # as FalkorDB's own client sets it
        )
        return FalkorDB(connection_pool=pool)

    async def base_driver(self) -> FalkorDriver:
        """The shared driver, connecting on first use; raises the connection error (an outage) while FalkorDB is away."""
        if self._base_driver is None:
            async with self._connect_lock:
                if self._base_driver is None:
                    # The constructor does blocking I/O (it asks the server whether it is a cluster).
                    client = await asyncio.to_thread(self._new_falkor_client)
                    self._base_driver = FalkorDriver(falkor_db=client)
        return self._base_driver

    async def ping(self, timeout: float = 3) -> bool:
        try:
            await asyncio.wait_for(self.check_reachable(), timeout=timeout)
            return True
        except Exception:
            return False

    async def check_reachable(self) -> None:
        """Raises why FalkorDB cannot be used right now (for the one-line outage report)."""
        driver = await asyncio.wait_for(self.base_driver(), timeout=10)
        await asyncio.wait_for(driver.client.connection.ping(), timeout=3)

    async def graph_for(self, group_id: str) -> Graphiti:
        graphiti = self._graphs.get(group_id)
        if graphiti is None:
            # A per-group driver clone: FalkorDB keeps each group in its own graph, and a dedicated
            # Graphiti per group never switches databases under a running call (graphiti #1331/#1676).
            driver = (await self.base_driver()).clone(database=group_id)
            graphiti = Graphiti(
                graph_driver=driver,
                llm_client=self.models.llm,
                embedder=self.models.embedder,
                cross_encoder=self.models.cross_encoder,
            )
            self._graphs[group_id] = graphiti
        if group_id not in self._indexed:
            init_task = getattr(graphiti.driver, '_init_task', None)
            if init_task is not None:
                graphiti.driver._init_task = None  # type: ignore[attr-defined]
                with contextlib.suppress(Exception):
                    await init_task
            await graphiti.build_indices_and_constraints()
            # graphiti creates no vector index on FalkorDB; without one, each search scans every fact.
            await ensure_vector_index(graphiti.driver, self.settings.embedding_dim)
            self._indexed.add(group_id)
        return graphiti

    async def _query(self, graphiti: Graphiti, cypher: str, **params: Any) -> list[dict[str, Any]]:
        result = await graphiti.driver.execute_query(cypher, **params)
        return list(result[0]) if result else []

    async def episode_state(self, group_id: str, episode_uuid: str) -> str | None:
        """None (absent), 'reserved' (saved before extraction) or 'stored' (graphiti finished)."""
        graphiti = await self.graph_for(group_id)
        rows = await self._query(
            graphiti, f'MATCH (e:Episodic {{uuid: $uuid}}) RETURN e.{STORED_MARK} AS stored', uuid=episode_uuid
        )
        if not rows:
            return None
        return 'stored' if rows[0].get('stored') else 'reserved'

    async def _reserve(self, graphiti: Graphiti, request: EpisodeRequest, episode_uuid: str) -> None:
        """graphiti only accepts a caller-chosen uuid for an episode that already exists, so the deterministic uuid
        is reserved first; that is what makes redelivery detectable."""
        await EpisodicNode(
            uuid=episode_uuid,
            name=request.name,
            group_id=request.group_id,
            labels=[],
            source=EpisodeType.from_str(request.source),
            content=request.content,
            source_description=request.source_description,
            created_at=utc_now(),
            valid_at=request.reference_datetime(),
        ).save(graphiti.driver)

    async def _mark_stored(self, graphiti: Graphiti, episode_uuids: list[str]) -> None:
        await self._query(
            graphiti, f'MATCH (e:Episodic) WHERE e.uuid IN $uuids SET e.{STORED_MARK} = true', uuids=episode_uuids
        )

    async def store_episode(self, request: EpisodeRequest, episode_uuid: str) -> bool:
        """Run graphiti's extraction for the episode; False if it was already stored (a redelivery)."""
        graphiti = await self.graph_for(request.group_id)
        state = await self.episode_state(request.group_id, episode_uuid)
        if state == 'stored':
            return False
        source = EpisodeType.from_str(request.source)
        reference_time = request.reference_datetime()
        previous = await graphiti.retrieve_episodes(
            reference_time, last_n=RELEVANT_SCHEMA_LIMIT, group_ids=[request.group_id], source=source,
            driver=graphiti.driver,
        )
        previous_uuids = [episode.uuid for episode in previous if episode.uuid != episode_uuid]
        if state is None:
            await self._reserve(graphiti, request, episode_uuid)
        await graphiti.add_episode(
            name=request.name,
            episode_body=request.content,
            source_description=request.source_description,
            reference_time=reference_time,
            source=source,
            group_id=request.group_id,
            uuid=episode_uuid,
            previous_episode_uuids=previous_uuids,
        )
        await self._mark_stored(graphiti, [episode_uuid])
        return True

    async def store_episodes(self, batch: list[tuple[EpisodeRequest, str]]) -> list[bool]:
        """One project's waiting episodes (in the order queued) in one graphiti pass: add_episode_bulk extracts them
        at once, one model call each, dedupes entities and facts across them and against the graph, and invalidates
        facts by each episode's time, so a project's backlog costs about one episode's wall time. One episode goes
        through add_episode, as before. False for an episode already stored (a redelivery)."""
        group_ids = {request.group_id for request, _ in batch}
        if len(group_ids) != 1:
            raise ValueError(f'a batch is one project\'s episodes, not {sorted(group_ids)}')
        group_id = group_ids.pop()
        graphiti = await self.graph_for(group_id)
        # already stored, or the same episode twice in the batch (a client's retry with its idempotency key)
        stored: list[bool] = []
        todo: dict[str, tuple[EpisodeRequest, str | None]] = {}  # by uuid: the request and its state
        for request, episode_uuid in batch:
            state = None if episode_uuid in todo else await self.episode_state(group_id, episode_uuid)
            done = episode_uuid in todo or state == 'stored'
            stored.append(done)
            if not done:
                todo[episode_uuid] = (request, state)
        if len(todo) == 1:
            (episode_uuid, (request, _)), = todo.items()
            await self.store_episode(request, episode_uuid)
        elif todo:
            for episode_uuid, (request, state) in todo.items():
                if state is None:
                    await self._reserve(graphiti, request, episode_uuid)
            results = await graphiti.add_episode_bulk(
                [
                    RawEpisode(
                        name=request.name,
                        uuid=episode_uuid,
                        content=request.content,
                        source_description=request.source_description,
                        source=EpisodeType.from_str(request.source),
                        reference_time=request.reference_datetime(),
                    )
                    for episode_uuid, (request, _) in todo.items()
                ],
                group_id=group_id,
            )
            await invalidate_within_batch(graphiti, results.edges)
            await self._mark_stored(graphiti, list(todo))
        return [not done for done in stored]

    async def discard_reserved_episode(self, group_id: str, episode_uuid: str) -> None:
        graphiti = await self.graph_for(group_id)
        await self._query(
            graphiti,
            f'MATCH (e:Episodic {{uuid: $uuid}}) WHERE e.{STORED_MARK} IS NULL DETACH DELETE e',
            uuid=episode_uuid,
        )

    async def has_graph(self, group_id: str) -> bool:
        """Whether FalkorDB holds a graph for the group (one key per graph): one round trip, creates nothing."""
        return bool(await (await self.base_driver()).client.connection.exists(group_id))

    async def search(self, group_id: str, query: str, limit: int) -> dict[str, Any]:
        if not await self.has_graph(group_id):
            # A project with no memory yet: answer at once, without an embedding call or creating its graph.
            return {'group_id': group_id, 'facts': [], 'episodes': []}
        graphiti = await self.graph_for(group_id)
        if self.settings.search_strategy == 'graphiti':
            edges, episodes = await self._graphiti_search(graphiti, group_id, query, limit)
        else:
            vector = await self.query_vector(query)
            edges, episodes = await search_group(graphiti.driver, group_id, query, vector, limit)
        return {
            'group_id': group_id,
            'facts': [
                {
                    'uuid': edge.uuid,
                    'fact': edge.fact,
                    'name': edge.name,
                    'valid_at': _iso(edge.valid_at),
                    'invalid_at': _iso(edge.invalid_at),
                }
                for edge in edges
            ],
            'episodes': [
                {
                    'uuid': episode.uuid,
                    'name': episode.name,
                    'content': episode.content,
                    'source_description': episode.source_description,
                    'valid_at': _iso(episode.valid_at),
                }
                for episode in episodes
            ],
        }

    async def query_vector(self, query: str) -> list[float] | None:
        """The query's embedding through the search's own client (never behind ingestion's model calls), remembered
        for the next search that asks the same. None when it is not there within MEMORY_SEARCH_EMBED_TIMEOUT_MS (the
        plugin's recall budget is 300 ms) or the provider refuses: the search keeps to keywords, one line a minute
        says so, and a late answer is still remembered for the next time."""
        text = query.replace('\n', ' ')
        vector = self._query_vectors.get(text)
        if vector is not None:
            self._query_vectors.move_to_end(text)
            return vector
        pending = self._embedding.get(text)
        if pending is None:
            pending = self._embedding[text] = asyncio.create_task(self._embed_query(text))
            pending.add_done_callback(lambda _: self._embedding.pop(text, None))
        try:
            return await asyncio.wait_for(asyncio.shield(pending), self.settings.search_embed_timeout_seconds)
        except Exception as error:  # noqa: BLE001 (late, refused or failed: keywords still answer)
            now = time.monotonic()
            if now - self._embedding_failure_logged >= 60:
                self._embedding_failure_logged = now
                reason = 'no answer in time' if isinstance(error, asyncio.TimeoutError) else describe(error)
                logger.warning('searching by keywords only: the query could not be embedded (%s)', reason)
            return None

    async def _embed_query(self, text: str) -> list[float]:
        vector = await self.models.search_embedder.create(input_data=[text])
        self._query_vectors[text] = vector
        while len(self._query_vectors) > QUERY_VECTOR_CACHE_SIZE:
            self._query_vectors.popitem(last=False)
        return vector

    async def _graphiti_search(
        self, graphiti: Graphiti, group_id: str, query: str, limit: int
    ) -> tuple[list[EntityEdge], list[EpisodicNode]]:
        """graphiti-core's own search (MEMORY_SEARCH=graphiti): the same methods, scanning every fact per query."""
        config = SearchConfig(
            edge_config=EdgeSearchConfig(
                search_methods=[EdgeSearchMethod.bm25, EdgeSearchMethod.cosine_similarity],
                reranker=EdgeReranker.rrf,
            ),
            episode_config=EpisodeSearchConfig(
                search_methods=[EpisodeSearchMethod.bm25], reranker=EpisodeReranker.rrf
            ),
            limit=limit,
        )
        results = await graphiti.search_(query, config=config, group_ids=[group_id])
        return results.edges, results.episodes

    async def require_graph(self, group_id: str) -> None:
        """Refuses a group FalkorDB holds no graph for, before anything could create one (its indexes would make
        an empty graph that every later backup exports)."""
        if not await self.has_graph(group_id):
            raise NotFound(f'no memory for group {group_id}')

    async def forget(self, group_id: str, item_uuid: str) -> str:
        """Remove an episode (with what only it supports), an entity or a fact."""
        await self.require_graph(group_id)
        graphiti = await self.graph_for(group_id)
        rows = await self._query(graphiti, 'MATCH (n {uuid: $uuid}) RETURN labels(n) AS labels', uuid=item_uuid)
        if rows:
            labels = rows[0].get('labels') or []
            if 'Episodic' in labels:
                await graphiti.remove_episode(item_uuid)
                return 'episode'
            if 'Entity' in labels:
                node = await EntityNode.get_by_uuid(graphiti.driver, item_uuid)
                await node.delete(graphiti.driver)
                return 'entity'
        rows = await self._query(graphiti, 'MATCH ()-[e:RELATES_TO {uuid: $uuid}]->() RETURN e.uuid AS uuid', uuid=item_uuid)
        if rows:
            edge = await EntityEdge.get_by_uuid(graphiti.driver, item_uuid)
            await edge.delete(graphiti.driver)
            return 'fact'
        raise NotFound(f'no episode, entity or fact {item_uuid} in group {group_id}')

    async def counts(self, group_id: str) -> dict[str, int]:
        graphiti = await self.graph_for(group_id)
        counts: dict[str, int] = {}
        for label in ('Episodic', 'Entity', 'Community', 'Saga'):
            rows = await self._query(graphiti, f'MATCH (n:{label}) RETURN count(n) AS n')
            counts[label] = int(rows[0]['n']) if rows else 0
        rows = await self._query(graphiti, 'MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS n')
        for row in rows:
            counts[str(row['type'])] = int(row['n'])
        return counts

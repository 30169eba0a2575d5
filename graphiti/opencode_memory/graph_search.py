"""Search of one group's graph whose cost does not grow with the graph the way graphiti-core 0.31's does on FalkorDB.

graphiti-core's `search_` (bm25 + cosine over facts, rrf; bm25 over episodes) asks FalkorDB for:
  - the cosine part: `MATCH (n:Entity)-[e:RELATES_TO]->(m:Entity) ... vec.cosineDistance(...)`, a scan of every fact
    in the group (graphiti creates range and fulltext indexes for FalkorDB, no vector index);
  - the episode part: for every fulltext hit, `MATCH (e:Episodic) WHERE e.uuid = episode.uuid`, an index scan per hit
    for the node the procedure already yielded;
  - the fact fulltext part: every hit projected in full (`properties(e)`, embedding included) before the sort;
  - for every fact returned, its embedding (in `properties(e)`), which the manager then parses.
Here the cosine part is a k-nearest-neighbour query on a FalkorDB vector index over RELATES_TO.fact_embedding
(created per group by `ensure_vector_index`), the episode part reads the yielded node, and the fact fulltext part
sorts the bare hits and projects only the `limit` kept, and no fact is returned with its embedding. A fulltext query still visits every hit (FalkorDB's
procedure has no limit), but at a small cost per hit. Results are fused with graphiti's `rrf` as before, so the
answer has the same shape and ranking rules: facts = rrf(bm25 top 2*limit, cosine top 2*limit)[:limit], cosine
hits below graphiti's default min score (0.6 on its (1 + cos) / 2 scale) dropped, episodes = bm25 top limit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from graphiti_core.driver.driver import GraphDriver
from graphiti_core.edges import EntityEdge, get_entity_edge_from_record
from graphiti_core.models.nodes.node_db_queries import EPISODIC_NODE_RETURN
from graphiti_core.nodes import EpisodicNode, get_episodic_node_from_record
from graphiti_core.search.search_filters import SearchFilters
from graphiti_core.search.search_utils import (
    DEFAULT_MIN_SCORE,
    edge_similarity_search,
    fulltext_query,
    rrf,
)

logger = logging.getLogger(__name__)

VECTOR_INDEX_ALREADY_THERE = ('already indexed', 'already exists')
# graphiti's return clause ends in `properties(e) AS attributes`, which carries the fact's embedding: 256+ floats
# per returned fact that the pure-Python RESP parser reads one by one (about 70 % of the manager's CPU per search,
# measured with py-spy). The answer never shows attributes, so they are not fetched.
FACT_RETURN = (
    'e.uuid AS uuid, startNode(e).uuid AS source_node_uuid, endNode(e).uuid AS target_node_uuid, '
    'e.group_id AS group_id, e.created_at AS created_at, e.name AS name, e.fact AS fact, e.episodes AS episodes, '
    'e.expired_at AS expired_at, e.valid_at AS valid_at, e.invalid_at AS invalid_at, '
    'e.reference_time AS reference_time, {} AS attributes'
)


def vector_index_query(dimensions: int) -> str:
    return (
        'CREATE VECTOR INDEX FOR ()-[e:RELATES_TO]-() ON (e.fact_embedding) '
        f"OPTIONS {{dimension: {int(dimensions)}, similarityFunction: 'cosine'}}"
    )


async def ensure_vector_index(driver: GraphDriver, dimensions: int) -> None:
    """Creates the group's vector index on facts (FalkorDB indexes existing facts too); a no-op if it exists."""
    try:
        await driver.execute_query(vector_index_query(dimensions))
    except Exception as error:  # FalkorDB refuses a second index on the same attribute
        if not any(marker in str(error) for marker in VECTOR_INDEX_ALREADY_THERE):
            raise


async def fact_vector_search(
    driver: GraphDriver, group_id: str, vector: list[float], limit: int, min_score: float = DEFAULT_MIN_SCORE
) -> list[EntityEdge]:
    """The `limit` nearest facts by cosine, from the vector index (no scan). While FalkorDB still builds the index
    (it does so in the background after CREATE, e.g. the first start after an upgrade on a big graph), the procedure
    refuses; that search falls back to graphiti's scan, which gives the same facts, slower."""
    # FalkorDB's cosine index scores a distance (1 - cos); graphiti's min score is on (1 + cos) / 2 = (2 - d) / 2.
    query = (
        "CALL db.idx.vector.queryRelationships('RELATES_TO', 'fact_embedding', $k, vecf32($vector)) "
        'YIELD relationship AS e, score AS distance '
        'WITH e, distance, startNode(e) AS n, endNode(e) AS m '
        'WHERE n:Entity AND m:Entity AND (2 - distance) / 2 > $min_score '
        'RETURN ' + FACT_RETURN + ' ORDER BY distance ASC'
    )
    try:
        result = await driver.execute_query(query, vector=vector, k=int(limit), min_score=min_score, routing_='r')
    except Exception as error:
        if 'db.idx.vector.queryRelationships' not in str(error):
            raise
        logger.info('vector index of group %s not ready (%s); scanning facts for this search', group_id, error)
        return await edge_similarity_search(
            driver, vector, None, None, SearchFilters(), [group_id], limit, min_score
        )
    records = result[0] if result else []
    return [get_entity_edge_from_record(record, driver.provider) for record in records]


async def fact_fulltext_search(driver: GraphDriver, query: str, group_id: str, limit: int) -> list[EntityEdge]:
    fuzzy = fulltext_query(query, [group_id], driver)
    if not fuzzy:
        return []
    cypher = (
        "CALL db.idx.fulltext.queryRelationships('RELATES_TO', $query) YIELD relationship AS e, score "
        'WHERE e.group_id = $group_id AND startNode(e):Entity AND endNode(e):Entity '
        'WITH e, score ORDER BY score DESC LIMIT $limit '
        'RETURN ' + FACT_RETURN + ' ORDER BY score DESC'
    )
    result = await driver.execute_query(cypher, query=fuzzy, group_id=group_id, limit=limit, routing_='r')
    records = result[0] if result else []
    return [get_entity_edge_from_record(record, driver.provider) for record in records]


async def episode_fulltext_search(driver: GraphDriver, query: str, group_id: str, limit: int) -> list[EpisodicNode]:
    fuzzy = fulltext_query(query, [group_id], driver)
    if not fuzzy:
        return []
    cypher = (
        "CALL db.idx.fulltext.queryNodes('Episodic', $query) YIELD node AS e, score "
        'WHERE e.group_id = $group_id RETURN ' + EPISODIC_NODE_RETURN + ' ORDER BY score DESC LIMIT $limit'
    )
    result = await driver.execute_query(cypher, query=fuzzy, group_id=group_id, limit=limit, routing_='r')
    records = result[0] if result else []
    return [get_episodic_node_from_record(record) for record in records]


async def _no_facts() -> list[EntityEdge]:
    return []


async def search_group(
    driver: GraphDriver, group_id: str, query: str, vector: list[float] | None, limit: int
) -> tuple[list[EntityEdge], list[EpisodicNode]]:
    """Keyword and nearest facts fused by rank, and keyword episodes; keywords only when there is no query vector
    (the embedding provider refused or is away)."""
    keyword_facts, similar_facts, episodes = await asyncio.gather(
        fact_fulltext_search(driver, query, group_id, 2 * limit),
        fact_vector_search(driver, group_id, vector, 2 * limit) if vector is not None else _no_facts(),
        episode_fulltext_search(driver, query, group_id, limit),
    )
    by_uuid: dict[str, EntityEdge] = {edge.uuid: edge for edge in [*keyword_facts, *similar_facts]}
    ranked, _ = rrf([[edge.uuid for edge in keyword_facts], [edge.uuid for edge in similar_facts]])
    return [by_uuid[uuid] for uuid in ranked[:limit]], episodes

"""What graphiti's bulk path leaves out: facts of one batch contradicting each other. add_episode_bulk resolves each
new fact against the graph (and invalidates what it contradicts there) but compares the batch's own facts only for
duplicates ("For now we won't track edge invalidation", graphiti_core/utils/bulk_utils.py). Without this pass,
"Orion uses Postgres" and "Orion now uses MySQL" queued together would both stay valid, where sent one after the
other the first is invalidated. Here each new fact is put to the model beside the batch's earlier facts that share an
entity with it, with graphiti's own prompt, and graphiti's own rule (resolve_edge_contradictions: only a fact valid
before it) invalidates them."""

from __future__ import annotations

from .bootstrap import prepare_graphiti_import

prepare_graphiti_import()

from graphiti_core import Graphiti  # noqa: E402
from graphiti_core.edges import EntityEdge  # noqa: E402
from graphiti_core.graphiti_types import generate_prompt_response  # noqa: E402
from graphiti_core.helpers import semaphore_gather  # noqa: E402
from graphiti_core.llm_client.config import ModelSize  # noqa: E402
from graphiti_core.prompts import prompt_library  # noqa: E402
from graphiti_core.prompts.dedupe_edges import EdgeDuplicate  # noqa: E402
from graphiti_core.utils.datetime_utils import ensure_utc  # noqa: E402
from graphiti_core.utils.maintenance.edge_operations import resolve_edge_contradictions  # noqa: E402


def earlier_facts_sharing_an_entity(edge: EntityEdge, batch_edges: list[EntityEdge]) -> list[EntityEdge]:
    """The batch's still valid facts that were true before this one and name one of its two entities."""
    if edge.valid_at is None or edge.expired_at is not None:
        return []
    endpoints = {edge.source_node_uuid, edge.target_node_uuid}
    return [
        other for other in batch_edges
        if other.uuid != edge.uuid and other.expired_at is None and other.valid_at is not None
        and ensure_utc(other.valid_at) < ensure_utc(edge.valid_at)
        and {other.source_node_uuid, other.target_node_uuid} & endpoints
    ]


async def contradicted_by(graphiti: Graphiti, edge: EntityEdge, candidates: list[EntityEdge]) -> list[EntityEdge]:
    answer = await generate_prompt_response(
        graphiti.llm_client,
        'dedupe_edges.resolve_edge',
        prompt_library.dedupe_edges.resolve_edge,
        {
            'existing_edges': [],
            'new_edge': edge.fact,
            'edge_invalidation_candidates': [{'idx': i, 'fact': other.fact} for i, other in enumerate(candidates)],
        },
        response_model=EdgeDuplicate,
        model_size=ModelSize.small,
    )
    chosen = EdgeDuplicate(**answer).contradicted_facts
    return resolve_edge_contradictions(edge, [candidates[i] for i in dict.fromkeys(chosen) if 0 <= i < len(candidates)])


async def invalidate_within_batch(graphiti: Graphiti, batch_edges: list[EntityEdge]) -> int:
    """Invalidates (and saves) the batch's facts its later facts contradict; returns how many. One model call per
    fact that has earlier candidates, all at once."""
    pairs = [(edge, earlier_facts_sharing_an_entity(edge, batch_edges)) for edge in batch_edges]
    answers = await semaphore_gather(
        *[contradicted_by(graphiti, edge, candidates) for edge, candidates in pairs if candidates],
        max_coroutines=graphiti.max_coroutines,
    )
    invalidated = {edge.uuid: edge for found in answers for edge in found}
    for edge in invalidated.values():
        await edge.save(graphiti.driver)
    return len(invalidated)

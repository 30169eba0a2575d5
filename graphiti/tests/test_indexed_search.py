"""Search on a FalkorDB vector index (graph_search.py) instead of graphiti-core's scan of every fact: the index
exists, the answers are the ones graphiti's own search gives, and a missing index falls back to the scan."""

from __future__ import annotations

from pathlib import Path

from conftest import graph_rows

from tests.support.real_servers import MemoryManager, RedisServer, free_port

EPISODES = [
    'Orion uses Postgres for billing. Orion deploys to Nomad.',
    'Vega uses Kafka for audit logs. Vega deploys to Fly.',
    'Lyra uses Redis for sessions.',
    'Atlas uses Postgres for reports. Atlas deploys to Nomad.',
]
QUERIES = ['What does Orion use?', 'Which services deploy to Nomad?', 'Kafka audit logs', 'Postgres']


def facts_for(manager: MemoryManager, query: str) -> set[str]:
    status, answer = manager.request('POST', '/search', {'group_id': 'fleet', 'query': query, 'limit': 20})
    assert status == 200, answer
    return {fact['fact'] for fact in answer['facts']}


def vector_indexed_attributes(falkordb: RedisServer) -> list[str]:
    rows = graph_rows(falkordb, 'fleet', 'CALL db.indexes() YIELD label, types RETURN label, types')
    return [f'{label}.{attribute}' for label, types in rows for attribute, kinds in types.items() if 'VECTOR' in kinds]


def test_indexed_search_has_a_vector_index_and_answers_like_graphitis_search(
    memory_manager: MemoryManager, memory_env: dict[str, str], falkordb: RedisServer, tmp_path: Path
) -> None:
    for content in EPISODES:
        memory_manager.add(group_id='fleet', content=content)
    memory_manager.wait_stored(len(EPISODES))

    assert vector_indexed_attributes(falkordb) == ['RELATES_TO.fact_embedding']
    indexed = {query: facts_for(memory_manager, query) for query in QUERIES}
    assert 'Orion uses Postgres for billing.' in indexed['What does Orion use?']
    assert {'Orion deploys to Nomad.', 'Atlas deploys to Nomad.'} <= indexed['Which services deploy to Nomad?']
    memory_manager.stop()

    graphitis = MemoryManager({**memory_env, 'MEMORY_SEARCH': 'graphiti', 'MEMORY_PORT': str(free_port())},
                              tmp_path / 'graphiti-search.log').start()
    try:
        assert {query: facts_for(graphitis, query) for query in QUERIES} == indexed
    finally:
        graphitis.stop()


def test_search_without_a_ready_vector_index_falls_back_to_the_scan(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    for content in EPISODES[:2]:
        memory_manager.add(group_id='fleet', content=content)
    memory_manager.wait_stored(2)
    before = facts_for(memory_manager, 'What does Orion use?')

    falkordb.client().execute_command(
        'GRAPH.QUERY', 'fleet', 'DROP VECTOR INDEX FOR ()-[e:RELATES_TO]-() ON (e.fact_embedding)'
    )
    assert vector_indexed_attributes(falkordb) == []

    assert facts_for(memory_manager, 'What does Orion use?') == before
    assert 'Orion uses Postgres for billing.' in before
    assert 'scanning facts for this search' in memory_manager.log_text()

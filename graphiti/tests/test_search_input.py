"""Searches that must never turn into a slow scan: a project with no memory yet, an empty query, a huge query."""

from __future__ import annotations

from conftest import graph_rows

from openai_compatible_server import OpenAICompatibleServer
from tests.support.real_servers import MemoryManager, RedisServer


def embedding_calls(double: OpenAICompatibleServer) -> int:
    return sum(1 for request in double.requests() if request['path'].endswith('/embeddings'))


def graph_names(falkordb: RedisServer) -> list[str]:
    client = falkordb.client(decode_responses=True)
    try:
        return list(client.execute_command('GRAPH.LIST'))
    finally:
        client.close()


def test_search_in_a_project_without_memory_answers_empty_without_embedding_or_creating_a_graph(
    memory_manager: MemoryManager, falkordb: RedisServer, openai_double: OpenAICompatibleServer
) -> None:
    openai_double.clear_requests()
    status, answer = memory_manager.request('POST', '/search', {'project_dir': '/srv/brand-new', 'query': 'Orion db?'})

    assert status == 200, answer
    assert answer['facts'] == [] and answer['episodes'] == []
    assert answer['group_id'].startswith('brand_new_')
    assert embedding_calls(openai_double) == 0
    assert answer['group_id'] not in graph_names(falkordb)


def test_search_in_a_project_with_memory_still_searches(
    memory_manager: MemoryManager, falkordb: RedisServer, openai_double: OpenAICompatibleServer
) -> None:
    memory_manager.add(group_id='known', content='Orion uses Postgres for billing.')
    memory_manager.wait_stored(1)
    openai_double.clear_requests()

    status, answer = memory_manager.request('POST', '/search', {'group_id': 'known', 'query': 'What does Orion use?'})

    assert status == 200, answer
    assert [fact['fact'] for fact in answer['facts']] == ['Orion uses Postgres for billing.']
    assert embedding_calls(openai_double) == 1
    assert graph_rows(falkordb, 'known', 'MATCH (e:Episodic) RETURN count(e)')[0][0] == 1


def test_empty_and_oversized_queries_are_refused_with_a_clear_400(memory_manager: MemoryManager) -> None:
    for empty in ('', ' \n\t ', None):
        status, answer = memory_manager.request('POST', '/search', {'group_id': 'g', 'query': empty})
        assert (status, answer['error']) == (400, 'query must be a non-empty string'), empty

    status, answer = memory_manager.request('POST', '/search', {'group_id': 'g', 'query': 'Orion ' * 17_000})
    assert status == 400
    assert answer['error'] == 'query is 102000 characters; the limit is 2000'

    status, answer = memory_manager.request('POST', '/search', {'group_id': 'g', 'query': 'x' * 2000})
    assert status == 200, answer

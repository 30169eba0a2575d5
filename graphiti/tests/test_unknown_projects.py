"""Requests about a project memory has never seen answer without creating anything: random group ids used to leave
one empty graph each in FalkorDB (its indexes), and every backup then exported them all."""

from __future__ import annotations

import secrets

from tests.support.real_servers import MemoryManager, RedisServer


def graph_names(falkordb: RedisServer) -> set[str]:
    client = falkordb.client(decode_responses=True)
    try:
        return set(client.execute_command('GRAPH.LIST'))
    finally:
        client.close()


def test_forget_export_and_search_of_unknown_projects_create_no_graph(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    memory_manager.add(group_id='known', content='Orion uses Postgres.')
    memory_manager.wait_idle()
    before = graph_names(falkordb)
    assert 'known' in before

    for _ in range(20):
        group = f'unknown-{secrets.token_hex(6)}'
        status, answer = memory_manager.request('POST', '/forget', {'group_id': group, 'uuid': secrets.token_hex(8)})
        assert status == 404, answer
        status, answer = memory_manager.request('GET', f'/export?group_id={group}')
        assert status == 404, answer
        status, answer = memory_manager.request('POST', '/search', {'group_id': group, 'query': 'Orion', 'limit': 5})
        assert status == 200 and answer['facts'] == [] and answer['episodes'] == [], answer

    assert graph_names(falkordb) == before

    status, answer = memory_manager.request('GET', '/export?group_id=known')
    assert status == 200 and answer['counts']['Episodic'] == 1, answer
    status, answer = memory_manager.request('POST', '/forget', {'group_id': 'known', 'uuid': 'no-such-item'})
    assert status == 404 and 'no-such-item' in answer['error'], answer

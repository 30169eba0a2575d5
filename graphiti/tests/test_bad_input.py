"""Bad input gets a clear answer and log line; the process and the neighbouring episodes are unharmed."""

from __future__ import annotations

import json

from conftest import episode_contents, graph_rows

from tests.support.real_servers import MemoryManager, RedisServer


def test_bad_requests_are_refused_clearly_and_neighbours_survive(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    memory_manager.add(group_id='neighbours', content='Before uses Alpha.')

    one_megabyte = {'group_id': 'neighbours', 'content': 'x' * (1024 * 1024)}
    status, answer = memory_manager.request('POST', '/episodes', one_megabyte)
    assert status == 413 and 'MEMORY_MAX_EPISODE_BYTES' in answer['error']

    invalid_utf8 = b'{"group_id": "neighbours", "content": "\xff\xfe oops"}'
    status, answer = memory_manager.request('POST', '/episodes', raw=invalid_utf8)
    assert status == 400 and 'UTF-8' in answer['error']

    status, answer = memory_manager.request('POST', '/episodes', {'group_id': 'neighbours', 'content': ' \n\t '})
    assert (status, answer['error']) == (400, 'content is empty')

    for hostile in ('../../etc/passwd', 'a b', 'x;MATCH (n) DETACH DELETE n', '', 'é', 'a' * 129):
        status, answer = memory_manager.request('POST', '/episodes', {'group_id': hostile or None, 'content': 'Hi'})
        assert status == 400, (hostile, answer)

    status, answer = memory_manager.request('POST', '/episodes', raw=b'{"group_id": "neighbours", "content": ')
    assert status == 400 and 'not JSON' in answer['error']

    memory_manager.add(group_id='neighbours', content='After uses Omega.')
    health = memory_manager.wait_idle()

    assert episode_contents(falkordb, 'neighbours') == ['After uses Omega.', 'Before uses Alpha.']
    assert health['dead_letters'] == 0
    log = memory_manager.log_text()
    assert 'POST /episodes -> 413' in log and 'body is not valid UTF-8' in log and 'content is empty' in log


def test_hostile_project_dir_is_sanitised_into_a_safe_group(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    hostile_dir = "/tmp/x/../Ünïcødé proj'; MATCH (n) DETACH DELETE n;\n"
    status, answer = memory_manager.request(
        'POST', '/episodes', {'project_dir': hostile_dir, 'content': 'Selene uses SQLite.\ud800 and a NUL \x00 too.'}
    )
    assert status == 202
    group_id = answer['group_id']
    assert group_id.startswith('Unicde_proj_MATCH_n_DETACH_DELETE_n_')
    memory_manager.wait_idle()

    assert episode_contents(falkordb, group_id) == ['Selene uses SQLite.? and a NUL  too.']
    assert graph_rows(falkordb, group_id, 'MATCH (e:Entity) RETURN count(e)')[0][0] >= 2


def test_unknown_routes_and_bad_search_requests(memory_manager: MemoryManager) -> None:
    assert memory_manager.request('GET', '/nope')[0] == 404
    assert memory_manager.request('POST', '/search', {'group_id': 'g', 'query': ''})[0] == 400
    assert memory_manager.request('POST', '/search', {'group_id': 'g', 'query': 'q', 'limit': 10_000})[0] == 400
    status, answer = memory_manager.request('POST', '/forget', {'group_id': 'g', 'uuid': 'no-such-uuid'})
    assert status == 404, json.dumps(answer)

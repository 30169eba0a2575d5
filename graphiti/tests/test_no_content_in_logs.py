"""No episode or query text reaches the memory process's log, at DEBUG, under every failure these tests can force:
the model failing, FalkorDB refusing writes (graphiti's driver logs failed queries with their parameters), FalkorDB
gone during a search, Valkey gone during an add, and bad input. Each step plants its own marker and the whole log is
searched for every marker at the end."""

from __future__ import annotations

import secrets
from pathlib import Path

from conftest import EMBEDDING_DIM

from tests.support.real_servers import MemoryManager, RedisServer, memory_manager_env, wait_until


def marker(kind: str) -> str:
    return f'CONTENT{kind.upper()}{secrets.token_hex(6)}'


def test_forced_failures_log_no_episode_or_query_text(
    falkordb: RedisServer, valkey: RedisServer, openai_double, tmp_path: Path
) -> None:
    env = memory_manager_env(
        falkordb_port=falkordb.port, valkey_port=valkey.port, openai_base_url=openai_double.base_url,
        embedding_dim=EMBEDDING_DIM, MEMORY_MAX_ATTEMPTS='2', MEMORY_LOG_LEVEL='DEBUG',
    )
    manager = MemoryManager(env, tmp_path / 'memory-manager.log').start()
    planted: list[str] = []
    try:
        # A stored episode, so the graph exists and later searches reach FalkorDB.
        stored = marker('stored')
        planted.append(stored)
        manager.add(group_id='logs', content=f'user: {stored} Orion uses Postgres.')
        manager.wait_stored(1)

        # The model fails every call: the episode is retried, then dead-lettered.
        openai_double.inject_faults(status=400, count=1000)
        model_failure = marker('modelfail')
        planted.append(model_failure)
        manager.add(group_id='logs', content=f'user: {model_failure} Vega uses Redis.')
        wait_until(lambda: manager.health()['dead_letters'] >= 1, 120, 'the episode dead-lettered')
        openai_double.inject_faults(count=0)

        # FalkorDB starts refusing queries (out of memory) once the model has read the episode, so the queries that
        # fail are the ones carrying its text: graphiti's driver logs a failed query with its parameters.
        openai_double.inject_faults(count=0, delay_seconds=1.0)
        openai_double.clear_requests()
        admin = falkordb.client()
        admin.config_set('maxmemory-policy', 'noeviction')
        write_failure = marker('writefail')
        planted.append(write_failure)
        manager.add(group_id='logs', content=f'user: {write_failure} Lyra uses SQLite.')
        wait_until(lambda: any(write_failure in str(request['body']) for request in openai_double.requests()), 60,
                   'the model to read the episode')
        admin.config_set('maxmemory', '1')
        wait_until(lambda: manager.health()['dead_letters'] >= 2, 120, 'the refused write dead-lettered')
        admin.config_set('maxmemory', '0')
        admin.close()
        openai_double.inject_faults(count=0, delay_seconds=0)

        # A search while FalkorDB is away, and one with bad input.
        query = marker('query')
        planted.append(query)
        falkordb.stop()
        status, _ = manager.request('POST', '/search', {'group_id': 'logs', 'query': f'{query} which database?', 'limit': 5})
        assert status >= 500
        falkordb.start()
        bad = marker('badinput')
        planted.append(bad)
        status, _ = manager.request('POST', '/search', {'group_id': 'logs', 'query': f'{bad} ' * 2000, 'limit': 5})
        assert status == 400

        # An add while Valkey is away.
        valkey.stop()
        queue_failure = marker('queuefail')
        planted.append(queue_failure)
        status, _ = manager.request('POST', '/episodes', {'group_id': 'logs', 'content': f'user: {queue_failure} Nova.'})
        assert status == 503
        valkey.start()
    finally:
        manager.stop()

    log = manager.log_text()
    assert 'DEBUG' in log, 'the process did not log at DEBUG: the test would prove nothing'
    leaked = [value for value in planted if value in log]
    assert not leaked, f'episode or query text in the log: {leaked}'

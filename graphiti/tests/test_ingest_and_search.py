"""Ingestion through the Valkey queue into a real FalkorDB, with the OpenAI-compatible server double as the model."""

from __future__ import annotations

import subprocess
import sys

from conftest import episode_contents, graph_rows

from tests.support.real_servers import MEMORY_MANAGER, MemoryManager, RedisServer


def test_added_episode_lands_in_falkordb_and_search_finds_its_fact(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    memory_manager.add(group_id='orion', name='m1', content='user: Orion uses Postgres for storage.')
    memory_manager.wait_idle()

    assert episode_contents(falkordb, 'orion') == ['user: Orion uses Postgres for storage.']
    entity_names = sorted(row[0] for row in graph_rows(falkordb, 'orion', 'MATCH (n:Entity) RETURN n.name'))
    assert entity_names == ['Orion', 'Postgres']

    status, found = memory_manager.request('POST', '/search', {'group_id': 'orion', 'query': 'What does Orion use?'})
    assert status == 200
    assert [fact['fact'] for fact in found['facts']] == ['Orion uses Postgres for storage.']

    status, forgotten = memory_manager.request('POST', '/forget', {'group_id': 'orion', 'uuid': found['facts'][0]['uuid']})
    assert (status, forgotten['kind']) == (200, 'fact')
    status, after = memory_manager.request('POST', '/search', {'group_id': 'orion', 'query': 'What does Orion use?'})
    assert after['facts'] == []


def test_project_dir_maps_to_its_own_group(memory_manager: MemoryManager, falkordb: RedisServer) -> None:
    queued_a = memory_manager.request('POST', '/episodes', {'project_dir': '/srv/a/app', 'content': 'Apollo uses Redis.'})[1]
    queued_b = memory_manager.request('POST', '/episodes', {'project_dir': '/srv/b/app', 'content': 'Boreas uses Kafka.'})[1]
    memory_manager.wait_idle()

    assert queued_a['group_id'] != queued_b['group_id']
    assert episode_contents(falkordb, queued_a['group_id']) == ['Apollo uses Redis.']
    assert episode_contents(falkordb, queued_b['group_id']) == ['Boreas uses Kafka.']
    status, found = memory_manager.request('POST', '/search', {'project_dir': '/srv/b/app', 'query': 'Boreas Kafka'})
    assert [fact['fact'] for fact in found['facts']] == ['Boreas uses Kafka.']


def test_same_idempotency_key_is_stored_once(memory_manager: MemoryManager, falkordb: RedisServer) -> None:
    for _ in range(2):
        memory_manager.add(group_id='idem', content='Hermes uses Nginx.', idempotency_key='message-42')
    memory_manager.wait_idle()

    assert episode_contents(falkordb, 'idem') == ['Hermes uses Nginx.']
    assert memory_manager.health()['duplicates_skipped'] == 1


def test_cli_add_search_and_health_talk_to_the_server(memory_manager: MemoryManager, memory_env: dict[str, str]) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MEMORY_MANAGER), *args], env=memory_env, capture_output=True, text=True, timeout=60
        )

    assert cli('add', '--group-id', 'cli', 'Iris uses Grafana.').returncode == 0
    memory_manager.wait_idle()
    searched = cli('search', '--group-id', 'cli', 'Iris Grafana')
    assert searched.returncode == 0 and 'Iris uses Grafana.' in searched.stdout
    health = cli('health')
    assert health.returncode == 0 and '"status": "ok"' in health.stdout

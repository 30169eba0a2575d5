"""Nothing queued is lost: FalkorDB outage, model outage, SIGKILL mid-ingest, a poisoned episode."""

from __future__ import annotations

from conftest import decoded_client, episode_contents

from openai_compatible_server import OpenAICompatibleServer
from tests.support.real_servers import MemoryManager, RedisServer, wait_until


def test_falkordb_outage_then_restart_stores_every_episode_exactly_once(
    memory_manager: MemoryManager, falkordb: RedisServer
) -> None:
    memory_manager.add(group_id='outage', content='Atlas uses Docker.')
    memory_manager.wait_idle()
    falkordb.stop()
    wait_until(lambda: memory_manager.health()['falkordb'] is False, 30, 'health to report FalkorDB down')

    contents = [f'Service{i} uses Queue{i}.' for i in range(5)]
    for content in contents:
        memory_manager.add(group_id='outage', content=content)
    assert memory_manager.health()['pending'] == 5

    falkordb.start()
    memory_manager.wait_idle()

    assert episode_contents(falkordb, 'outage') == sorted(['Atlas uses Docker.', *contents])
    assert memory_manager.health()['dead_letters'] == 0


def test_model_outage_is_waited_out_not_dead_lettered(
    memory_manager: MemoryManager, falkordb: RedisServer, openai_double: OpenAICompatibleServer
) -> None:
    openai_double.inject_faults(status=503, count=4)
    memory_manager.add(group_id='llm_outage', content='Castor uses Vault.')
    memory_manager.wait_idle()

    assert episode_contents(falkordb, 'llm_outage') == ['Castor uses Vault.']
    assert memory_manager.health()['dead_letters'] == 0
    assert 'waits for an outage to end' in memory_manager.log_text()


def test_sigkill_mid_ingest_then_restart_loses_nothing(
    memory_manager: MemoryManager, falkordb: RedisServer, openai_double: OpenAICompatibleServer
) -> None:
    openai_double.inject_faults(delay_seconds=0.5)
    openai_double.clear_requests()
    contents = [f'Project{i} uses Store{i}.' for i in range(4)]
    for content in contents:
        memory_manager.add(group_id='crash', content=content)
    wait_until(
        lambda: any(r['path'].endswith('/chat/completions') for r in openai_double.requests()), 30,
        'the worker to be mid-extraction',
    )
    memory_manager.kill_hard()
    openai_double.inject_faults(delay_seconds=0)

    memory_manager.start()
    memory_manager.wait_idle()

    assert episode_contents(falkordb, 'crash') == sorted(contents)
    assert memory_manager.health()['dead_letters'] == 0
    assert 'unacknowledged episode(s) from an earlier run' in memory_manager.log_text()


def test_poisoned_episode_is_dead_lettered_with_its_error_and_neighbours_are_stored(
    memory_manager: MemoryManager, falkordb: RedisServer, valkey: RedisServer
) -> None:
    memory_manager.add(group_id='poison', content='Before uses Alpha.')
    poisoned_id = memory_manager.add(group_id='poison', content='POISON-PILL Gamma uses Delta.')
    memory_manager.add(group_id='poison', content='After uses Omega.')
    health = memory_manager.wait_idle()

    assert episode_contents(falkordb, 'poison') == ['After uses Omega.', 'Before uses Alpha.']
    assert health['dead_letters'] == 1
    [(_, dead)] = decoded_client(valkey).xrange('opencode-memory:episodes:dead')
    assert dead['original_id'] == poisoned_id
    assert dead['content'] == 'POISON-PILL Gamma uses Delta.'
    assert 'poisoned input refused' in dead['error']
    assert dead['attempts'] == '2'


def test_malformed_stream_entry_is_dead_lettered_not_retried_forever(
    memory_manager: MemoryManager, valkey: RedisServer, falkordb: RedisServer
) -> None:
    decoded_client(valkey).xadd('opencode-memory:episodes', {'group_id': '../../etc', 'content': 'x'})
    memory_manager.add(group_id='after_bad_entry', content='Juno uses Caddy.')
    memory_manager.wait_idle()

    [(_, dead)] = decoded_client(valkey).xrange('opencode-memory:episodes:dead')
    assert dead['error'].startswith('BadRequest')
    assert episode_contents(falkordb, 'after_bad_entry') == ['Juno uses Caddy.']

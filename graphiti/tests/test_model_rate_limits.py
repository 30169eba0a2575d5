"""The model provider's limits (issue 19): every model call of the memory process goes through one gate, at most
MEMORY_MODEL_CONCURRENCY at once, and a 429 with Retry-After pauses them all, so a rate-limited provider is not
hammered and nothing is lost; searches never wait behind it, nor for an embedder that refuses or hangs. Real FalkorDB and Redis, the real memory process, the
local OpenAI-compatible double answering late or answering 429."""

from __future__ import annotations

import time
from pathlib import Path

from conftest import episode_contents

from tests.support.real_servers import MemoryManager, RedisServer

PROJECTS = ['atlas', 'borealis', 'cygnus', 'draco']


def model_calls(openai_double, since: float) -> list[dict]:
    return [r for r in openai_double.requests() if r['method'] == 'POST' and r['at'] >= since
            and r['path'].endswith(('/chat/completions', '/embeddings'))]


def test_model_calls_in_flight_never_exceed_the_shared_limit_openai_compatible_double(
    memory_env: dict[str, str], tmp_path: Path, openai_double, falkordb: RedisServer
) -> None:
    memory_env['MEMORY_MODEL_CONCURRENCY'] = '2'
    with_limit = MemoryManager(memory_env, tmp_path / 'memory-manager.log').start()
    try:
        openai_double.inject_faults(delay_seconds=0.3)
        openai_double.clear_requests()
        for project in PROJECTS:  # four lanes at once, each wanting several calls at once
            with_limit.add(group_id=project, name=f'{project}-1', content=f'user: {project.title()} uses Postgres and Redis.')
        with_limit.wait_stored(len(PROJECTS), timeout=240)
    finally:
        with_limit.stop()
    widest = openai_double.most_chat_calls_at_once()
    assert widest == 2, f'{widest} chat calls were answered at once with MEMORY_MODEL_CONCURRENCY=2'
    for project in PROJECTS:
        assert episode_contents(falkordb, project) == [f'user: {project.title()} uses Postgres and Redis.']


def test_a_429_with_retry_after_pauses_every_call_and_loses_nothing_openai_compatible_double(
    memory_manager: MemoryManager, openai_double, falkordb: RedisServer
) -> None:
    """Episodes of four projects arrive one after another while the provider answers 429 (Retry-After: 3) for 3 s:
    the first 429 pauses every model call, so the later episodes send nothing until it has passed (each would earn a
    429 of its own otherwise), and every episode is stored once it has."""
    started = time.time()
    openai_double.rate_limit(3, retry_after=3)
    for project in PROJECTS:
        memory_manager.add(group_id=project, name=f'{project}-1', content=f'user: {project.title()} uses Kafka.')
        time.sleep(0.4)
    memory_manager.wait_stored(len(PROJECTS), timeout=240)
    refused = [r for r in model_calls(openai_double, started) if r['at'] < started + 3]
    assert 1 <= len(refused) <= 2, f'{len(refused)} model calls were sent into the 3 s the provider asked to wait'
    assert memory_manager.health()['dead_letters'] == 0
    for project in PROJECTS:
        assert episode_contents(falkordb, project) == [f'user: {project.title()} uses Kafka.']


def test_searches_answer_by_keywords_while_the_provider_refuses_openai_compatible_double(
    memory_manager: MemoryManager, openai_double
) -> None:
    memory_manager.add(group_id='atlas', name='atlas-1', content='user: Atlas uses Cassandra for telemetry.')
    memory_manager.wait_stored(1, timeout=120)
    refusing_until = time.time() + 30
    openai_double.rate_limit(30, retry_after=30)
    status, found = memory_manager.request('POST', '/search', {'group_id': 'atlas', 'query': 'Cassandra telemetry'})
    answered = time.time()
    assert status == 200, found
    assert any('Cassandra' in fact['fact'] for fact in found['facts']), found
    assert answered < refusing_until, 'the search waited until the provider stopped refusing'
    assert 'searching by keywords only' in memory_manager.log_text()


def test_searches_answer_by_keywords_while_the_embedder_hangs_and_remember_its_late_answer_openai_compatible_double(
    memory_manager: MemoryManager, openai_double
) -> None:
    memory_manager.add(group_id='atlas', name='atlas-1', content='user: Atlas uses Cassandra for telemetry.')
    memory_manager.wait_stored(1, timeout=120)
    hanging_until = time.time() + 3
    openai_double.delay_embeddings(3)
    status, found = memory_manager.request('POST', '/search', {'group_id': 'atlas', 'query': 'Cassandra telemetry'})
    assert time.time() < hanging_until, 'the search waited for the hanging embedder'
    assert status == 200 and any('Cassandra' in fact['fact'] for fact in found['facts']), found
    embedded = len([r for r in openai_double.requests() if r['path'].endswith('/embeddings')])
    time.sleep(3.5)  # the late answer arrives and is kept
    status, again = memory_manager.request('POST', '/search', {'group_id': 'atlas', 'query': 'Cassandra telemetry'})
    assert status == 200 and again['facts'], again
    assert len([r for r in openai_double.requests() if r['path'].endswith('/embeddings')]) == embedded, \
        'the same query was embedded again'

"""Tracing never stands between OpenCode and its memory: with tracing off, with no agent listening, or with an
agent that stalls every trace upload, the memory manager under ddtrace-run still answers /health, ingests (the
LLM and embedder are the local OpenAI-compatible server) and searches, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import EMBEDDING_DIM
from openai_compatible_server import OpenAICompatibleServer
from trace_stack import DatadogTestAgent, MemoryManagerUnderDdtrace, memory_env

from tests.support.real_servers import STOP_TIMEOUT, RedisServer, free_port

pytestmark = pytest.mark.timeout(240)

GROUP_ID = 'tracing_off'
STALLED_AGENT_STOP_TIMEOUT = 120.0
DATADOG_IDENTITY = {'DD_SERVICE': 'opencode-server', 'DD_ENV': 'test', 'DD_VERSION': '0.1.0'}


def _run_memory_round_trip(tracing: dict[str, str], falkordb: RedisServer, valkey: RedisServer,
                           openai_double: OpenAICompatibleServer, work_dir: Path,
                           stop_timeout: float = STOP_TIMEOUT) -> MemoryManagerUnderDdtrace:
    env = memory_env(falkordb_port=falkordb.port, valkey_port=valkey.port, openai_base_url=openai_double.base_url,
                     embedding_dim=EMBEDDING_DIM, tracing={**DATADOG_IDENTITY, **tracing})
    manager = MemoryManagerUnderDdtrace(env, work_dir).start()
    try:
        assert manager.health()['status'] == 'ok'
        status, queued = manager.request('POST', '/episodes', {
            'group_id': GROUP_ID, 'name': 'untraced', 'content': 'Vega uses Redis. Vega runs on Debian.',
            'source': 'message', 'source_description': 'tracing test',
        })
        assert status == 202, queued
        manager.wait_stored(1)
        status, answer = manager.request('POST', '/search', {'group_id': GROUP_ID, 'query': 'What does Vega use?'})
        assert status == 200, answer
        assert any('Vega' in fact['fact'] for fact in answer['facts']), answer
    finally:
        exit_code = manager.stop(timeout=stop_timeout)
    assert exit_code == 0, f'the memory manager did not stop cleanly within {stop_timeout}s:\n{manager.log_text()[-3000:]}'
    return manager


def test_tracing_disabled_serves_and_sends_nothing_datadog_test_agent(
        datadog_test_agent: DatadogTestAgent, falkordb: RedisServer, valkey: RedisServer,
        openai_double: OpenAICompatibleServer, tmp_path: Path) -> None:
    _run_memory_round_trip(
        {'DD_TRACE_ENABLED': 'false', 'DD_TRACE_AGENT_URL': datadog_test_agent.url},
        falkordb, valkey, openai_double, tmp_path,
    )
    # The process has exited, so ddtrace's exit flush is over: anything it would send has been sent.
    assert datadog_test_agent.traces() == []


def test_no_agent_listening_still_serves_local_openai_compatible_server(
        falkordb: RedisServer, valkey: RedisServer, openai_double: OpenAICompatibleServer, tmp_path: Path) -> None:
    nobody_listens = f'http://127.0.0.1:{free_port()}'
    manager = _run_memory_round_trip({'DD_TRACE_AGENT_URL': nobody_listens}, falkordb, valkey, openai_double, tmp_path)
    assert 'Traceback' not in manager.log_text()


def test_stalled_agent_still_serves_local_openai_compatible_server(
        falkordb: RedisServer, valkey: RedisServer, openai_double: OpenAICompatibleServer, tmp_path: Path) -> None:
    # The test agent holds every trace upload for 600 s, far longer than the test runs: requests are still
    # answered at once, but ddtrace's flush at exit waits for its own send timeout (about 40 s measured here,
    # whatever DD_TRACE_AGENT_TIMEOUT_SECONDS says), so the bound on stopping is wider than elsewhere.
    # (The agent's --enabled-checks flag cannot be parsed in 1.69.1; the ENABLED_CHECKS variable can.)
    stalled = DatadogTestAgent(tmp_path)
    stalled.command += ['--trace-request-delay', '600']
    stalled.env = {**os.environ, 'ENABLED_CHECKS': 'trace_stall'}
    stalled.start()
    try:
        _run_memory_round_trip({'DD_TRACE_AGENT_URL': stalled.url}, falkordb, valkey, openai_double, tmp_path,
                               stop_timeout=STALLED_AGENT_STOP_TIMEOUT)
        assert 'Stalling for 600.0 seconds' in stalled.log_text()
    finally:
        stalled.stop()

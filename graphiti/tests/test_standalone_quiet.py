"""The memory process alone, with nothing it needs listening (no FalkorDB, no Valkey, no Datadog agent), as in a
`podman run` of the image by itself (issue 10, item 3): it stays up, answers /health as degraded, and says once per
missing server what it cannot reach and how it retries, instead of a traceback a second."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.support.real_servers import REPO, ManagedProcess, MemoryManager, free_ports, memory_manager_env, wait_until

DDTRACE_RUN = REPO / '.venv' / 'bin' / 'ddtrace-run'
OBSERVE_SECONDS = 20
# Under a loaded CI machine importing graphiti and ddtrace takes a while.
READY_TIMEOUT = 120


def _start_alone(tmp_path: Path, wrapper: list[str], **extra: str) -> MemoryManager:
    falkordb_port, valkey_port, agent_port, model_port = free_ports(4)
    env = memory_manager_env(falkordb_port=falkordb_port, valkey_port=valkey_port,
                             openai_base_url=f'http://127.0.0.1:{model_port}/v1', embedding_dim=256,
                             MEMORY_RETRY_BASE_SECONDS='1', MEMORY_RETRY_MAX_SECONDS='60',
                             DD_TRACE_AGENT_URL=f'http://127.0.0.1:{agent_port}', DD_SERVICE='opencode-server',
                             DD_ENV='standalone-test', XDG_RUNTIME_DIR=str(tmp_path), **extra)
    manager = MemoryManager(env, tmp_path / 'memory-manager.log', wrapper=wrapper)
    ManagedProcess.start(manager)
    manager.wait_ready(lambda: manager.request('GET', '/health', timeout=5)[0] == 200, READY_TIMEOUT,
                       'the memory manager /health')
    return manager


def _observe(manager: MemoryManager) -> tuple[str, dict]:
    """Some seconds of life alone, with the requests a chat would send (each makes a trace ddtrace cannot send)."""
    deadline = time.monotonic() + OBSERVE_SECONDS
    statuses = set()
    while time.monotonic() < deadline:
        statuses.add(manager.request('POST', '/search', {'group_id': 'alone', 'query': 'anything'}, timeout=15)[0])
        statuses.add(manager.request('POST', '/episodes', {'group_id': 'alone', 'content': 'hello'}, timeout=15)[0])
        time.sleep(1)
    status, health = manager.request('GET', '/health', timeout=15)
    assert status == 200
    assert manager.running(), 'the memory process exited instead of waiting for its servers'
    assert statuses <= {503}, f'a request got something other than 503 (outage): {statuses}'
    return manager.log_text(), health


@pytest.mark.parametrize('traced', [False, True], ids=['plain', 'ddtrace-run'])
def test_alone_it_logs_one_line_per_missing_server_and_no_traceback(tmp_path: Path, traced: bool) -> None:
    manager = _start_alone(tmp_path, [str(DDTRACE_RUN)] if traced else [])
    try:
        log, health = _observe(manager)
    finally:
        manager.stop()
    assert health['status'] == 'degraded' and health['falkordb'] is False and health['valkey'] is False

    assert 'Traceback' not in log, log[-3000:]
    falkordb = re.findall(r'cannot reach FalkorDB at 127\.0\.0\.1:\d+ \(.*Connection refused.*\); retrying in \d+s, '
                          r'backing off to every 60s', log)
    valkey = re.findall(r'cannot reach Valkey at 127\.0\.0\.1:\d+ \(.*\); retrying in \d+s, backing off to every 60s',
                        log)
    assert len(falkordb) == 1 and len(valkey) == 1, log
    agent = re.findall(r'cannot reach the Datadog agent at http://127\.0\.0\.1:\d+/\S+; traces are dropped', log)
    assert 'failed to send' not in log
    if traced:
        assert len(agent) == 1, log
    else:
        assert agent == []
    # Besides those lines and one per refused request (POST ... -> 503), at most start and shutdown.
    other = [line for line in log.splitlines()
             if line.strip() and 'cannot reach' not in line and ' -> 503 ' not in line]
    assert len(other) <= 4, '\n'.join(other)
    assert all(re.match(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ \S+: ', line) for line in log.splitlines()
               if line.strip()), 'a line without the one-line format (e.g. a bare ddtrace handler line)'

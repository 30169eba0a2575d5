"""Memory's figures reach the Datadog agent's DogStatsD (issue 23): the real memory process, real FalkorDB and Redis,
the model double, and a real UDP listener on loopback where the agent would be. Without an agent address it sends
nothing."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.real_servers import MemoryManager

TAGS = '#env:metrics-test,service:opencode-server,version:0.1.0'


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(('127.0.0.1', 0))
    udp.settimeout(0.5)
    yield udp
    udp.close()


def lines_until(udp: socket.socket, wanted: set[str], timeout: float) -> list[str]:
    """Every datagram line until each wanted metric name has arrived (or the time is up)."""
    received: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not wanted <= {line.split(':', 1)[0] for line in received}:
        try:
            received += [line for line in udp.recv(65535).decode().split('\n') if line]
        except socket.timeout:
            continue
    return received


def start(memory_env: dict[str, str], tmp_path: Path, **extra: str) -> MemoryManager:
    env = {**memory_env, 'DD_ENV': 'metrics-test', 'DD_SERVICE': 'opencode-server', 'DD_VERSION': '0.1.0', **extra}
    return MemoryManager(env, tmp_path / 'memory-manager.log').start()


def test_stored_episodes_lag_recall_queue_and_dead_letters_reach_dogstatsd(memory_env, tmp_path, listener) -> None:
    port = listener.getsockname()[1]
    manager = start(memory_env, tmp_path, DD_AGENT_HOST='127.0.0.1', DD_DOGSTATSD_PORT=str(port))
    try:
        manager.add(group_id='orion', name='m1', content='user: Orion uses Postgres for storage.')
        manager.wait_idle()
        status, _ = manager.request('POST', '/search', {'group_id': 'orion', 'query': 'What does Orion use?'})
        assert status == 200
        names = {f'opencode_server.memory.{name}' for name in
                 ('episodes.stored', 'ingestion_lag', 'recall.requests', 'recall.latency', 'queue.depth', 'dead_letters')}
        lines = lines_until(listener, names, 30)
    finally:
        manager.stop()
    by_name: dict[str, list[str]] = {}
    for line in lines:
        by_name.setdefault(line.split(':', 1)[0], []).append(line)
    assert names <= set(by_name), sorted(by_name)
    assert by_name['opencode_server.memory.episodes.stored'][0].startswith('opencode_server.memory.episodes.stored:1|c')
    assert '|h|' in by_name['opencode_server.memory.ingestion_lag'][0]
    assert '|h|' in by_name['opencode_server.memory.recall.latency'][0]
    assert by_name['opencode_server.memory.dead_letters'][-1].startswith('opencode_server.memory.dead_letters:0|g')
    assert all(line.endswith(TAGS) for line in lines if line.startswith('opencode_server.memory.')), lines


def test_without_an_agent_address_nothing_is_sent(memory_env, tmp_path, listener) -> None:
    manager = start(memory_env, tmp_path, DD_DOGSTATSD_PORT=str(listener.getsockname()[1]))
    try:
        manager.add(group_id='orion', name='m1', content='user: Orion uses Postgres for storage.')
        manager.wait_idle()
        received = lines_until(listener, {'never'}, 3)
    finally:
        manager.stop()
    assert received == []

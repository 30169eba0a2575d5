"""The memory API holds when anyone who reaches it misbehaves (issue 17, part 4), with bounded bursts on loopback:
half-sent requests are closed after MEMORY_CONNECTION_TIMEOUT_SECONDS, connections past MEMORY_MAX_CONNECTIONS get 503
at once, JSON nested past 64 levels is a 400 (it was a 500), and a flood without the token is one log line."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.support.real_servers import MemoryManager, wait_until


def connect(manager: MemoryManager) -> socket.socket:
    connection = socket.create_connection(('127.0.0.1', manager.port), timeout=10)
    connection.sendall(b'POST /search HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n')  # never finished
    return connection


def threads_of(manager: MemoryManager) -> int:
    status = Path(f'/proc/{manager.process.pid}/status').read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith('Threads:')))


def test_half_sent_requests_are_closed_and_the_connection_cap_answers_503(memory_env: dict[str, str], tmp_path: Path) -> None:
    env = {**memory_env, 'MEMORY_CONNECTION_TIMEOUT_SECONDS': '8', 'MEMORY_MAX_CONNECTIONS': '16'}
    manager = MemoryManager(env, tmp_path / 'memory.log').start()
    held: list[socket.socket] = []
    try:
        # connected first, so the threads of start-up (FalkorDB's client is made in a worker thread) are all there
        wait_until(lambda: manager.health()['falkordb'] or None, 30, 'FalkorDB reached')
        baseline = threads_of(manager)
        held = [connect(manager) for _ in range(16)]
        wait_until(lambda: threads_of(manager) >= baseline + 16 or None, 30, 'a thread per held connection')
        # The 17th is refused at once, whatever it sends.
        extra = socket.create_connection(('127.0.0.1', manager.port), timeout=10)
        answer = extra.recv(4096)
        extra.close()
        assert answer.startswith(b'HTTP/1.1 503'), answer
        assert threads_of(manager) <= baseline + 16, 'the cap made no thread'
        # After the timeout every half-sent request is closed and its thread gone.
        wait_until(lambda: threads_of(manager) <= baseline + 1 or None, 20, 'the held connections closed')
        for connection in held:
            connection.settimeout(10)
            assert connection.recv(4096) == b'', 'a half-sent request is still open'
        status, _ = manager.request('GET', '/health')
        assert status == 200, 'the API answers again'
    finally:
        for connection in held:
            connection.close()
        manager.stop()


def test_deep_json_is_400_and_a_flood_without_the_token_is_one_log_line(memory_manager: MemoryManager) -> None:
    deep = ('[' * 5000) + (']' * 5000)
    status, answer = memory_manager.request('POST', '/search', raw=deep.encode())
    assert status == 400 and 'deeper than 64' in answer['error'], (status, answer)
    status, _ = memory_manager.request('POST', '/search', raw=(('{"a":' * 60) + '1' + ('}' * 60)).encode())
    assert status == 400, 'a body nested 60 levels is still read (and refused for its content)'

    for index in range(100):
        status, _ = memory_manager.request('GET', f'/health/\\x1b[31m{index}', token='')
        assert status == 401
    log = memory_manager.log_text()
    refusals = [line for line in log.splitlines() if '401' in line]
    assert len(refusals) == 1, refusals
    assert 'x1b' not in log and '\x1b' not in log, 'a caller\'s raw bytes reached the log'
    assert memory_manager.request('GET', '/health')[0] == 200

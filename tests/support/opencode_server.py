"""The real `opencode serve` (the opencode-ai 1.18.33 platform binary from npm ci) for the pytest suites, in a
throwaway HOME whose only provider is the local OpenAI-compatible double (tests/doubles/openai_compatible_server.py).
No plugin is installed there: these tests are about OpenCode's own state. Driven through OpenCode's HTTP API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

from tests.support.real_servers import KILL_WAIT_TIMEOUT, ManagedProcess, free_port, http_json

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0
TURN_TIMEOUT = 120.0
MODEL = 'local-double/double-chat'


def opencode_binary() -> str:
    """OPENCODE_BIN, else the platform package the root package.json installs (as tests/support/opencode-binary.ts)."""
    if os.environ.get('OPENCODE_BIN'):
        return os.environ['OPENCODE_BIN']
    for variant in ('opencode-linux-x64', 'opencode-linux-x64-baseline', 'opencode-linux-arm64'):
        candidate = REPO / 'node_modules' / variant / 'bin' / 'opencode'
        if candidate.is_file() and subprocess.run([str(candidate), '--version'], capture_output=True,
                                                  timeout=60).returncode == 0:
            return str(candidate)
    raise RuntimeError('no runnable opencode binary (run npm ci, or set OPENCODE_BIN)')


def model_config(base_url: str) -> dict[str, Any]:
    return {
        '$schema': 'https://opencode.ai/config.json',
        'model': MODEL,
        'small_model': 'local-double/double-small',
        'autoupdate': False,
        'share': 'disabled',
        'provider': {
            'local-double': {
                'npm': '@ai-sdk/openai-compatible',
                'name': 'Local OpenAI-compatible double',
                'options': {'baseURL': base_url, 'apiKey': 'test-key-not-secret'},
                'models': {
                    'double-chat': {'name': 'double chat', 'tool_call': True, 'limit': {'context': 128000, 'output': 4096}},
                    'double-small': {'name': 'double small', 'tool_call': False, 'limit': {'context': 128000, 'output': 4096}},
                },
            },
        },
    }


def opencode_env(home: Path, **extra: str) -> dict[str, str]:
    """HOME and every XDG directory under `home`, so nothing of the developer's own OpenCode is read or written."""
    return {
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'),
        'HOME': str(home),
        'XDG_CONFIG_HOME': str(home / '.config'),
        'XDG_DATA_HOME': str(home / '.local' / 'share'),
        'XDG_STATE_HOME': str(home / '.local' / 'state'),
        'XDG_CACHE_HOME': str(home / '.cache'),
        **{key: value for key, value in os.environ.items() if key in ('NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'HTTPS_PROXY', 'HTTP_PROXY', 'NO_PROXY')},
        **extra,
    }


def prepare_home(home: Path, model_base_url: str) -> Path:
    """Writes the config; returns the project directory the sessions belong to."""
    config_dir = home / '.config' / 'opencode'
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / 'opencode.json').write_text(json.dumps(model_config(model_base_url), indent=2))
    project = home / 'project'
    project.mkdir(parents=True, exist_ok=True)
    (project / 'README.md').write_text('# backup test project\n')
    return project


def database_path(home: Path) -> Path:
    return home / '.local' / 'share' / 'opencode' / 'opencode.db'


class OpencodeServer(ManagedProcess):
    """`opencode serve` on a free loopback port; stop() ends its whole process group."""

    def __init__(self, home: Path, project: Path, log_path: Path) -> None:
        self.home = home
        self.project = project
        self.port = free_port()
        super().__init__([opencode_binary(), 'serve', '--hostname', '127.0.0.1', '--port', str(self.port),
                          '--print-logs'], log_path, env=opencode_env(home), cwd=project)

    @property
    def url(self) -> str:
        return f'http://127.0.0.1:{self.port}'

    def start(self) -> OpencodeServer:
        with open(self.log_path, 'ab') as log:
            self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        # A request sent while OpenCode starts can hang: short per-request timeouts.
        self.wait_ready(lambda: http_json('GET', f'{self.url}/config', timeout=3)[0] == 200, START_TIMEOUT,
                        'opencode /config', interval=0.5)
        return self

    def stop(self, timeout: float | None = None) -> int | None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.exit_code = self.process.wait(timeout=self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=KILL_WAIT_TIMEOUT)
                self.exit_code = None
            self.process = None
        return super().stop(timeout)

    def _path(self, path: str) -> str:
        return f'{self.url}{path}?directory={urllib.parse.quote(str(self.project))}'

    def create_session(self, title: str) -> dict[str, Any]:
        status, body = http_json('POST', self._path('/session'), {'title': title}, timeout=30)
        assert status == 200, body
        return body

    def send_message(self, session_id: str, text: str) -> dict[str, Any]:
        """One user turn; the synchronous route answers once the assistant's reply (from the model double) is done."""
        status, body = http_json('POST', self._path(f'/session/{session_id}/message'),
                                 {'parts': [{'type': 'text', 'text': text}]}, timeout=TURN_TIMEOUT)
        assert status == 200, body
        return body

    def sessions(self) -> list[dict[str, Any]]:
        status, body = http_json('GET', self._path('/session'), timeout=30)
        assert status == 200, body
        return body

    def messages(self, session_id: str) -> list[dict[str, Any]]:
        status, body = http_json('GET', self._path(f'/session/{session_id}/message'), timeout=30)
        assert status == 200, body
        return body


def conversation(server: OpencodeServer) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """Every session as OpenCode's API shows it: id -> (title, [(role, text of its text parts)...])."""
    result: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for session in server.sessions():
        turns = []
        for message in server.messages(session['id']):
            text = '\n'.join(part.get('text', '') for part in message.get('parts', []) if part.get('type') == 'text')
            turns.append((message['info']['role'], text))
        result[session['id']] = (session['title'], turns)
    return result

"""No run-time downloads by default (issue 17, part 6), with the real opencode 1.18.33 and the image's own ENV.

OpenCode fetches the models list (from models.opencode.ai in 1.18.33) when it starts, and, once LSP is enabled in a
project's config, downloads a language server the first time a file of its language is touched (the eslint server as
an archive of vscode-eslint's main branch from github.com). Each run here sends OpenCode's HTTPS through a local proxy
that records the host of every CONNECT and refuses it, then touches a .ts file with `opencode debug lsp diagnostics`,
which returns once the language servers were started or given up. Without the variables both downloads reach the
proxy, so the proxy would see them; with the OPENCODE_DISABLE_* variables of the committed Containerfile, nothing does.
No Podman: the variables are what is under test, read from the Containerfile the image is built from."""

from __future__ import annotations

import json
import shlex
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.opencode_server import opencode_binary, opencode_env

REPO = Path(__file__).resolve().parents[2]
CONTAINERFILE = REPO / 'containers' / 'opencode-server' / 'Containerfile'
COMMAND_TIMEOUT = 180
MODELS_HOST = 'models.opencode.ai'
ESLINT_SERVER_HOST = 'github.com'


def image_env() -> dict[str, str]:
    """Every ENV of the Containerfile, continuation lines joined (KEY=VALUE form, as the renderer writes it)."""
    text = CONTAINERFILE.read_text().replace('\\\n', ' ')
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith('ENV '):
            for word in shlex.split(line[len('ENV '):]):
                key, _, value = word.partition('=')
                env[key] = value
    return env


class RecordingProxy(socketserver.ThreadingTCPServer):
    """An HTTP proxy that lets nothing through: it records each request line (CONNECT host:443) and answers 403."""

    daemon_threads = True

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        super().__init__(('127.0.0.1', 0), self.Handler)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            line = self.rfile.readline().decode('latin-1').strip()
            self.server.request_lines.append(line)  # type: ignore[attr-defined]
            self.wfile.write(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')

    def hosts(self) -> set[str]:
        return {line.split()[1].rsplit(':', 1)[0] for line in self.request_lines if line.startswith('CONNECT ')}


@pytest.fixture
def proxy() -> Iterator[RecordingProxy]:
    server = RecordingProxy()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def typescript_project_with_lsp(root: Path) -> Path:
    """A project whose config enables LSP and where eslint resolves, so OpenCode wants the eslint language server."""
    project = root / 'project'
    (project / 'node_modules' / 'eslint').mkdir(parents=True)
    (project / 'node_modules' / 'eslint' / 'package.json').write_text('{"name": "eslint", "version": "9.0.0", "main": "index.js"}')
    (project / 'node_modules' / 'eslint' / 'index.js').write_text('module.exports = {};\n')
    (project / 'package-lock.json').write_text('{}\n')
    (project / 'opencode.json').write_text(json.dumps({'lsp': True}))
    (project / 'main.ts').write_text('export const answer: number = 42;\n')
    return project


def touch_a_typescript_file(tmp_path: Path, proxy: RecordingProxy, extra_env: dict[str, str]) -> set[str]:
    project = typescript_project_with_lsp(tmp_path)
    proxy_url = f'http://127.0.0.1:{proxy.server_address[1]}'
    env = opencode_env(tmp_path / 'home', HTTPS_PROXY=proxy_url, HTTP_PROXY=proxy_url, NO_PROXY='',
                       OPENCODE_DISABLE_AUTOUPDATE='1', **extra_env)
    result = subprocess.run([opencode_binary(), 'debug', 'lsp', 'diagnostics', 'main.ts'], cwd=project, env=env,
                            capture_output=True, text=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-2000:]
    return proxy.hosts()


def test_the_image_sets_both_variables() -> None:
    env = image_env()
    assert env.get('OPENCODE_DISABLE_LSP_DOWNLOAD') == '1', env
    assert env.get('OPENCODE_DISABLE_MODELS_FETCH') == '1', env


def test_without_the_variables_opencode_downloads(tmp_path: Path, proxy: RecordingProxy) -> None:
    """The control: the proxy sees both downloads, so the next test's empty record means something."""
    hosts = touch_a_typescript_file(tmp_path, proxy, {})
    assert {MODELS_HOST, ESLINT_SERVER_HOST} <= hosts, proxy.request_lines


def test_with_the_image_env_nothing_is_downloaded(tmp_path: Path, proxy: RecordingProxy) -> None:
    disable = {key: value for key, value in image_env().items() if key.startswith('OPENCODE_DISABLE_')}
    hosts = touch_a_typescript_file(tmp_path, proxy, disable)
    assert hosts == set(), proxy.request_lines

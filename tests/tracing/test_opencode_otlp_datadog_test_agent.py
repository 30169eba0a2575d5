"""OpenCode's own spans: opencode 1.18.33 exports OpenTelemetry traces over OTLP/HTTP when
OTEL_EXPORTER_OTLP_ENDPOINT is set. Here the real `opencode serve`, started as the image starts it (under
ddtrace-run, which only passes the environment on), sends them to the APM test agent's OTLP intake."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from trace_stack import VENV_BIN, DatadogTestAgent

from tests.support.real_servers import REPO, ManagedProcess, free_port, http_json, wait_until

pytestmark = pytest.mark.timeout(180)

OPENCODE_VERSION = '1.18.33'
PASSWORD = 'otlp-test-password-not-secret'


def _opencode_binary() -> str | None:
    candidates = [os.environ.get('OPENCODE_BIN', ''), str(REPO / 'node_modules' / 'opencode-linux-x64' / 'bin' / 'opencode')]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            done = subprocess.run([candidate, '--version'], capture_output=True, text=True, timeout=60)
            if done.returncode == 0 and done.stdout.strip() == OPENCODE_VERSION:
                return candidate
    return None


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {item['key']: next(iter(item['value'].values()), None) for item in items}


def _spans(payloads: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    for payload in payloads:
        for resource_spans in payload.get('resourceSpans', []):
            resource = _attributes(resource_spans['resource']['attributes'])
            for scope_spans in resource_spans.get('scopeSpans', []):
                for span in scope_spans.get('spans', []):
                    yield resource, span


@pytest.fixture
def opencode_serve(datadog_test_agent: DatadogTestAgent, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    binary = _opencode_binary()
    if binary is None:
        pytest.skip(f'no opencode {OPENCODE_VERSION} binary (run npm ci, or set OPENCODE_BIN)')
    home, project = tmp_path / 'home', tmp_path / 'project'
    (home / '.config' / 'opencode').mkdir(parents=True)
    project.mkdir()
    port = free_port()
    env = {
        'PATH': os.environ['PATH'], 'HOME': str(home),
        'XDG_CONFIG_HOME': str(home / '.config'), 'XDG_DATA_HOME': str(home / '.local' / 'share'),
        'XDG_CACHE_HOME': str(home / '.cache'), 'XDG_STATE_HOME': str(home / '.local' / 'state'),
        'OPENCODE_DISABLE_AUTOUPDATE': '1', 'OPENCODE_DISABLE_MODELS_FETCH': '1', 'OPENCODE_DISABLE_LSP_DOWNLOAD': '1',
        'OPENCODE_DISABLE_SHARE': '1', 'OPENCODE_DISABLE_CLAUDE_CODE': '1',
        'OPENCODE_SERVER_PASSWORD': PASSWORD,
        'OTEL_EXPORTER_OTLP_ENDPOINT': datadog_test_agent.otlp_http_url,
        'OTEL_RESOURCE_ATTRIBUTES': 'deployment.environment=test,service.name=opencode-server',
        'DD_SERVICE': 'opencode-server', 'DD_ENV': 'test', 'DD_TRACE_AGENT_URL': datadog_test_agent.url,
    }
    opencode = ManagedProcess(
        [str(VENV_BIN / 'ddtrace-run'), binary, 'serve', '--hostname', '127.0.0.1', '--port', str(port), '--print-logs'],
        tmp_path / 'opencode.log', env=env, cwd=project,
    )
    opencode.start()
    url = f'http://127.0.0.1:{port}'
    try:
        wait_until(lambda: opencode.running() and http_json('GET', f'{url}/config', timeout=5)[0] == 401,
                   60, f'opencode serve (log: {opencode.log_path})')
        yield url, project
    finally:
        opencode.stop()


def test_opencode_exports_its_http_spans_over_otlp_datadog_test_agent(
        opencode_serve: tuple[str, Path], datadog_test_agent: DatadogTestAgent) -> None:
    url, project = opencode_serve
    credentials = base64.b64encode(f'opencode:{PASSWORD}'.encode()).decode()
    status, config = http_json('GET', f'{url}/config?directory={project}', headers={'Authorization': f'Basic {credentials}'})
    assert status == 200, config

    def config_route_span() -> tuple[dict[str, Any], dict[str, Any]] | None:
        for resource, span in _spans(datadog_test_agent.otlp_traces()):
            attributes = _attributes(span['attributes'])
            if span['name'] == 'http.server GET' and attributes.get('http.route') == '/config' \
                    and attributes.get('http.response.status_code') == 200:
                return resource, {**span, 'attributes': attributes}
        return None

    resource, span = wait_until(config_route_span, 60, 'the /config server span at the OTLP intake')
    assert span['kind'] == 2  # SERVER
    # OpenCode names itself: OTEL_RESOURCE_ATTRIBUTES adds attributes but cannot rename the service or its env.
    assert resource['service.name'] == 'opencode'
    assert resource['service.version'] == OPENCODE_VERSION
    assert resource['deployment.environment'] == 'test'
    assert resource['deployment.environment.name'] == 'latest'
    assert span['attributes']['http.request.header.authorization'] == '<redacted>'
    exported = json.dumps(datadog_test_agent.otlp_traces())
    assert credentials not in exported and PASSWORD not in exported
    # The compiled Bun binary is not instrumented by ddtrace-run: nothing arrives at the Datadog trace intake.
    assert datadog_test_agent.traces() == []

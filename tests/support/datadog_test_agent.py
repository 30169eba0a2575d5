"""Datadog's own APM test agent (PyPI `ddapm-test-agent`), the double for the Datadog agent that the tracing and pod
tests send traces to."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.support.real_servers import START_TIMEOUT, ManagedProcess, free_ports, http_json

VENV_BIN = Path(sys.executable).parent


class DatadogTestAgent(ManagedProcess):
    """ddapm-test-agent: the Datadog agent's trace intake (v0.4/v0.5) and an OTLP HTTP intake, on loopback, or on
    every host address (`host='0.0.0.0'`) for containers that reach the host, as the pod's do."""

    def __init__(self, work_dir: Path, host: str = '127.0.0.1', ready_timeout: float = START_TIMEOUT) -> None:
        self.port, self.otlp_http_port, self.otlp_grpc_port = free_ports(3)
        self.ready_timeout = ready_timeout
        super().__init__(
            [str(VENV_BIN / 'ddapm-test-agent'), '--host', host, '--port', str(self.port),
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
        self.wait_ready(lambda: http_json('GET', f'{self.url}/info', timeout=2)[0] == 200, self.ready_timeout,
                        'the Datadog test agent /info')
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

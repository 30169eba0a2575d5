"""The processes the tracing tests run: Datadog's APM test agent, and the memory manager under `ddtrace-run`,
built on the shared tests/support/real_servers.py (which also starts FalkorDB and the Valkey stand-in)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from tests.support.real_servers import (
    REPO, START_TIMEOUT, ManagedProcess, MemoryManager, free_ports, http_json, memory_manager_env,
)

VENV_BIN = Path(sys.executable).parent
# Lets a patched copy of graphiti/ be tested before it lands; the default is the repository's own.
MEMORY_MANAGER = Path(os.environ.get('TRACING_TEST_MEMORY_MANAGER') or REPO / 'graphiti' / 'memory_manager.py')


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
        self.wait_ready(lambda: http_json('GET', f'{self.url}/info', timeout=2)[0] == 200, START_TIMEOUT,
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


class MemoryManagerUnderDdtrace(MemoryManager):
    """`ddtrace-run python graphiti/memory_manager.py serve`, as OpenCode's plugin starts it in the image."""

    def __init__(self, env: dict[str, str], work_dir: Path) -> None:
        super().__init__(env, work_dir / f'memory-manager-{env["MEMORY_PORT"]}.log',
                         wrapper=[str(VENV_BIN / 'ddtrace-run')], script=MEMORY_MANAGER)


def memory_env(*, falkordb_port: int, valkey_port: int, openai_base_url: str, embedding_dim: int,
               tracing: dict[str, str]) -> dict[str, str]:
    """The environment the plugin hands the memory process, with the given DD_* settings and no stray ones."""
    return memory_manager_env(falkordb_port=falkordb_port, valkey_port=valkey_port, openai_base_url=openai_base_url,
                              embedding_dim=embedding_dim, **tracing)

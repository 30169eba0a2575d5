"""The processes the tracing tests run: Datadog's APM test agent, and the memory manager under `ddtrace-run`,
built on the shared tests/support/real_servers.py (which also starts FalkorDB and the Valkey stand-in)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.datadog_test_agent import DatadogTestAgent  # noqa: F401  (the tracing tests import it from here)
from tests.support.real_servers import REPO, MemoryManager, memory_manager_env

VENV_BIN = Path(sys.executable).parent
# Lets a patched copy of graphiti/ be tested before it lands; the default is the repository's own.
MEMORY_MANAGER = Path(os.environ.get('TRACING_TEST_MEMORY_MANAGER') or REPO / 'graphiti' / 'memory_manager.py')


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

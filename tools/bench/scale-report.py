#!/usr/bin/env python3
"""Markdown tables for docs/benchmarks/memory-scale.md from scale-bench.py's JSON figures: one run, or a before/after pair.

  python3 tools/bench/scale-report.py docs/benchmarks-scale.json [docs/benchmarks-scale-before.json]
"""

from __future__ import annotations

import json
import sys
from typing import Any


def ms(d: dict[str, float]) -> str:
    return f"{d['p50']:.0f} / {d['p95']:.0f} / {d['max']:.0f}"


def mib(value: float) -> str:
    return f'{value / 2**20:.1f}'


def lost(recall: dict[str, Any]) -> str:
    share = 100 * recall['failed'] / max(1, recall['turns'])
    return f"{share:.0f} % ({recall['timedOut']} + {recall['failed'] - recall['timedOut']})"


def rows(results: dict[str, Any]) -> list[dict[str, Any]]:
    entries = list(results['sizes'])
    if 'projects' in results:
        entries.append(results['projects'])
    return entries


def label(entry: dict[str, Any]) -> str:
    if entry['projects'] == 1:
        return f"{entry['episodes']:,} episodes, 1 project"
    return f"{entry['projects']} projects x {entry['episodes'] // entry['projects']:,} episodes"


def size_table(results: dict[str, Any], before: dict[str, Any] | None) -> str:
    lines = ['| graph | built by | search p50 / p95 / max, ms | CPU per search (manager + FalkorDB), ms | recall adds to a turn p50 / p95 / max, ms | '
             'turns that lost recall: timed out + other error, of 100 | ingestion, episodes/s |', '|---|---|---|---|---|---|---|']
    previous = {label(e): e for e in rows(before)} if before else {}
    for entry in rows(results):
        old = previous.get(label(entry))
        recall = entry['recall']
        timed_out = lost(recall)
        search = ms(entry['search'])
        cpu = f"{entry['search']['cpu_ms_manager']:.0f} + {entry['search']['cpu_ms_falkordb']:.0f}"
        added = ms(recall['added'])
        ingestion = f"{entry['ingestion']['episodes_per_s']:.2f}"
        if old:
            old_recall = old['recall']
            search = f"{ms(old['search'])} → **{search}**"
            cpu = (f"{old['search']['cpu_ms_manager']:.0f} + {old['search']['cpu_ms_falkordb']:.0f} → **{cpu}**")
            added = f"{ms(old_recall['added'])} → **{added}**"
            timed_out = f"{lost(old_recall)} → **{lost(recall)}**"
            ingestion = f"{old['ingestion']['episodes_per_s']:.2f} → **{ingestion}**"
        lines.append(f"| {label(entry)} | {entry['built_by']} | {search} | {cpu} | {added} | {timed_out} | {ingestion} |")
    return '\n'.join(lines)


def memory_table(results: dict[str, Any]) -> str:
    lines = ['| graph | FalkorDB used_memory, MiB (per 1,000 episodes) | RSS, MiB (per 1,000) | RDB, MiB (per 1,000) |',
             '|---|---|---|---|']
    for entry in rows(results):
        footprint, per_k = entry['footprint'], entry['per_1000']
        lines.append(f"| {label(entry)} | {mib(footprint['used_memory'])} ({mib(per_k['used_memory'])}) | "
                     f"{mib(footprint['rss'])} ({mib(per_k['rss'])}) | {mib(footprint['rdb'])} ({mib(per_k['rdb'])}) |")
    return '\n'.join(lines)


def concurrency_table(results: dict[str, Any], before: dict[str, Any] | None) -> str:
    runs = [('before', before), ('after', results)] if before else [('run', results)]
    lines = ['| | ' + ' | '.join(name for name, _ in runs) + ' |', '|---|' + '---|' * len(runs)]

    def row(title: str, pick: Any) -> None:
        lines.append(f'| {title} | ' + ' | '.join(pick(r['concurrency']) for _, r in runs) + ' |')

    row('turns (sessions × projects)', lambda c: f"{c['turns']} ({c['sessions']} × {c['projects']}, {c['seconds']} s)")
    row('recall adds to a turn p50 / p95 / max, ms', lambda c: ms(c['recall']))
    # Warnings are counted per process, so with 20 sessions at once a timeout can be attributed to a neighbour's turn:
    # the share of turns without memory is the exact figure, the timeout count the cause seen in the log.
    row('turns without memory', lambda c: f"{c['turns'] - c['with_memory']} ({100 * (c['turns'] - c['with_memory']) / max(1, c['turns']):.1f} %)")
    row('recall timeouts logged', lambda c: f"{c['timed_out']}")
    row('ingestion lag queued → stored p50 / p95 / max, s',
        lambda c: f"{c['lag_ms']['p50'] / 1000:.1f} / {c['lag_ms']['p95'] / 1000:.1f} / {c['lag_ms']['max'] / 1000:.1f}")
    row('episodes sent / stored / lost / stored twice / dead letters',
        lambda c: f"{c['episodes_sent']} / {c['episodes_stored']} / {c['lost']} / {c['stored_twice']} / {c['dead_letters']}")
    return '\n'.join(lines)


def main() -> None:
    results = json.loads(open(sys.argv[1]).read())
    before = json.loads(open(sys.argv[2]).read()) if len(sys.argv) > 2 else None
    print(size_table(results, before))
    print()
    print(memory_table(results))
    if 'concurrency' in results and (before is None or 'concurrency' in before):
        print()
        print(concurrency_table(results, before))
    for key in ('search_exponent_p50', 'search_exponent_p95', 'recall_exponent_p95', 'search_cpu_exponent',
                'falkordb_cpu_exponent'):
        value = results.get(key)
        old = before.get(key) if before else None
        if value is not None:
            print(f"\n{key}: {'' if old is None else f'{old:.2f} → '}{value:.2f}", end='')
    print()


if __name__ == '__main__':
    main()

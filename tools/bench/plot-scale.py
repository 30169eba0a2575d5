#!/usr/bin/env python3
"""Draws latency against graph size from the figures tools/bench/scale-bench.py wrote (JSON) into a PNG.
Runs in .venv-bench (matplotlib from tools/bench/requirements.lock), which scale-bench.py sets up.

  .venv-bench/bin/python tools/bench/plot-scale.py docs/benchmarks-scale.json docs/benchmarks-scale.png [title label]
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    results = json.loads(open(source).read())
    search = (sys.argv[3] if len(sys.argv) > 3 else ' '.join(results.get('manager_env', []))) or 'MEMORY_SEARCH=indexed'
    sizes = results['sizes']
    episodes = [entry['episodes'] for entry in sizes]
    figure, axis = plt.subplots(figsize=(8, 5), dpi=110)
    series = [
        ('search p50', [e['search']['p50'] for e in sizes], 'o-'),
        ('search p95', [e['search']['p95'] for e in sizes], 's-'),
        ('recall adds to a turn, p50', [e['recall']['added']['p50'] for e in sizes], 'o--'),
        ('recall adds to a turn, p95', [e['recall']['added']['p95'] for e in sizes], 's--'),
        ('CPU per search (manager + FalkorDB)', [e['search'].get('cpu_ms', 0) or 1e-3 for e in sizes], 'd:'),
    ]
    for label, values, style in series:
        axis.plot(episodes, values, style, label=label)
    timeout = sizes[0]['recall'].get('recallTimeoutMs', 300)
    axis.axhline(timeout, color='red', linewidth=1, label=f'recall timeout ({timeout} ms)')
    axis.axhline(150, color='orange', linewidth=1, linestyle=':', label='target: recall p95 150 ms')
    if 'projects' in results:
        team = results['projects']
        axis.plot([team['episodes']], [team['recall']['added']['p95']], 'k^',
                  label=f"{team['projects']} projects x 100 episodes, recall p95")
    axis.set_xscale('log')
    axis.set_yscale('log')
    axis.set_xlabel('episodes in the project (log)')
    axis.set_ylabel('milliseconds (log)')
    exponent = results.get('search_exponent_p50')
    cpu_exponent = results.get('search_cpu_exponent')
    title = f'Memory search and recall vs graph size ({search})'
    if exponent is not None and cpu_exponent is not None:
        title += f'\nsearch p50 ~ n^{exponent:.2f}, CPU per search ~ n^{cpu_exponent:.2f}'
    axis.set_title(title)
    axis.grid(True, which='both', alpha=0.3)
    axis.legend(fontsize=8)
    figure.text(0.01, 0.01, f"{results['started']} · {results['machine']['cpu']}, "
                f"{results['machine']['cores']} cores", fontsize=7, color='gray')
    figure.tight_layout()
    figure.savefig(target)


if __name__ == '__main__':
    main()

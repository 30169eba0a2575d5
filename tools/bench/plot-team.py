#!/usr/bin/env python3
"""Draws what tools/bench/team-bench.py wrote (one JSON per run) into one PNG: the backlog (queued, not stored) over
each run's time, and the ingestion lag of each episode by when it was queued (runs that recorded it). A backlog that
comes back to zero and a lag that does not climb are memory keeping pace. Runs in .venv-bench (matplotlib).

  .venv-bench/bin/python tools/bench/plot-team.py docs/benchmarks-team.png RUN.json [RUN.json ...]
"""

from __future__ import annotations

import json
import sys

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def label(run: dict) -> str:
    projects = 'one project' if run['projects'] == 1 else f'{run["projects"]} projects'
    return f'{run["sessions"]} sessions, {projects}, model {run["model_latency_s"]:g} s'


def main() -> None:
    target, sources = sys.argv[1], sys.argv[2:]
    runs = [json.loads(open(source).read()) for source in sources]
    with_lags = [run for run in runs if run.get('lags')]
    figure, axes = plt.subplots(2 if with_lags else 1, 1, figsize=(9, 7 if with_lags else 4), dpi=110, squeeze=False)
    backlog = axes[0][0]
    colour = {id(run): f'C{index}' for index, run in enumerate(runs)}  # one colour per run in both panels
    for run in runs:
        samples = run['samples']
        backlog.plot([s['t'] / 60 for s in samples], [s['backlog'] for s in samples], label=label(run),
                     color=colour[id(run)])
    backlog.set_xlabel('minutes into the run')
    backlog.set_ylabel('episodes queued, not stored')
    backlog.set_title('Backlog over time (the capacity probe after the run not shown)')
    backlog.grid(alpha=0.3)
    backlog.legend(fontsize=8)
    if with_lags:
        lag = axes[1][0]
        for run in with_lags:
            lag.plot([t / 60 for t, _ in run['lags']], [ms / 1000 for _, ms in run['lags']], '.', markersize=2,
                     label=label(run), color=colour[id(run)])
        lag.axhline(60, color='grey', linestyle='--', linewidth=1, label='60 s (the target for p95)')
        lag.set_xlabel('minutes into the run (when the episode was queued)')
        lag.set_ylabel('queued → stored (s)')
        lag.set_title('Ingestion lag of each episode')
        lag.grid(alpha=0.3)
        lag.legend(fontsize=8, markerscale=4)
    machine = runs[0]['machine']
    figure.suptitle(f'tools/bench/team-bench.py, {runs[0]["started"][:10]}, {machine["cores"]} cores '
                    f'({machine["cpu"]})', fontsize=9)
    figure.tight_layout()
    figure.savefig(target)


if __name__ == '__main__':
    main()

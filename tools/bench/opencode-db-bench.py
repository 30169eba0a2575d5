"""Backup and restore times of OpenCode's database with 1,000 sessions (figures for docs/benchmarks/pod-and-backups.md).

The real `opencode serve` makes TEMPLATES sessions with two turns each through its HTTP API (the model is the local
OpenAI-compatible double); with the server stopped they are copied in SQL (session, message, part, event rows, ids and
the ids inside the JSON rewritten) up to SESSIONS; the server is started again and must list them all. Then, with the
server running, `backup --only opencode` to an rclone local remote is timed, and with the server stopped and the data
directory wiped, `restore --only opencode`. Each run of a command line is timed whole (Python start, rclone, checks);
the restore's schema probe (`opencode db` in a scratch directory) is timed on its own as well.

    .venv/bin/python tools/bench/opencode-db-bench.py [--sessions 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'scripts'))

from backup_lib import opencode_db  # noqa: E402
from tests.doubles.openai_compatible_server import OpenAICompatibleServer  # noqa: E402
from tests.support.opencode_server import OpencodeServer, database_path, opencode_binary, prepare_home  # noqa: E402

TEMPLATES = 10


def copy_sessions(database: Path, total: int) -> None:
    """Copies the existing sessions (with their messages, parts and events) until there are `total`."""
    connection = sqlite3.connect(database)
    templates = [row[0] for row in connection.execute('SELECT id FROM session ORDER BY id')]
    copies = total - len(templates)
    with connection:
        for number in range(copies):
            source = templates[number % len(templates)]
            suffix = f'c{number:05d}'
            ids = [source] + [row[0] for row in connection.execute('SELECT id FROM message WHERE session_id = ?', (source,))]
            ids += [row[0] for row in connection.execute('SELECT id FROM part WHERE session_id = ?', (source,))]

            def rewritten(column: str) -> str:
                expression = column
                for old in ids:
                    expression = f"replace({expression}, '{old}', '{old}{suffix}')"
                return expression

            session_columns = [row[1] for row in connection.execute('PRAGMA table_info(session)')]
            values = [rewritten(c) if c == 'id' else c for c in session_columns]
            connection.execute(f'INSERT INTO session ({", ".join(session_columns)}) SELECT {", ".join(values)} '
                               'FROM session WHERE id = ?', (source,))
            for table, keys in (('message', ('id', 'session_id', 'data')), ('part', ('id', 'message_id', 'session_id', 'data'))):
                columns = [row[1] for row in connection.execute(f'PRAGMA table_info({table})')]
                values = [rewritten(c) if c in keys else c for c in columns]
                connection.execute(f'INSERT INTO {table} ({", ".join(columns)}) SELECT {", ".join(values)} '
                                   f'FROM {table} WHERE session_id = ?', (source,))
            for table, key in (('event', 'aggregate_id'), ('event_sequence', 'aggregate_id')):
                columns = [row[1] for row in connection.execute(f'PRAGMA table_info({table})')]
                values = [rewritten(c) if c in (key, 'data') else c for c in columns]
                values = [f"id || '{suffix}'" if c == 'id' else v for c, v in zip(columns, values)]
                connection.execute(f'INSERT INTO {table} ({", ".join(columns)}) SELECT {", ".join(values)} '
                                   f'FROM {table} WHERE {key} = ?', (source,))
    connection.close()


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f'{command} failed:\n{result.stdout}\n{result.stderr}')
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--sessions', type=int, default=1000)
    parser.add_argument('--runs', type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix='opencode-db-bench-'))
    model = OpenAICompatibleServer().start()
    server: OpencodeServer | None = None
    try:
        home = work / 'home'
        project = prepare_home(home, model.base_url)
        database = database_path(home)
        server = OpencodeServer(home, project, work / 'opencode.log').start()
        for number in range(TEMPLATES):
            session = server.create_session(f'template {number}: Orion planning')
            for turn in range(2):
                server.send_message(session['id'], f'Template {number} turn {turn}: Orion uses Postgres and Vega uses '
                                                   f'Redis; notes {"lorem ipsum " * 40}')
        server.stop()
        copy_sessions(database, args.sessions)
        server = OpencodeServer(home, project, work / 'opencode.log').start()
        listed = len(server.sessions())
        with sqlite3.connect(database) as connection:
            counts = {table: connection.execute(f'SELECT count(*) FROM {table}').fetchone()[0]
                      for table in ('session', 'message', 'part')}
        assert counts['session'] == args.sessions, counts
        remote = work / 'remote'
        remote.mkdir()
        env = {key: value for key, value in os.environ.items() if not key.startswith(('B2_', 'BACKUP_', 'RCLONE_'))}
        env.update({
            'BACKUP_TARGET': 'rclone', 'RCLONE_CONFIG_BENCHDISK_TYPE': 'local', 'RCLONE_CONFIG': str(work / 'none.conf'),
            'BACKUP_RCLONE_REMOTE': f'benchdisk:{remote}', 'BACKUP_PREFIX': 'bench', 'BACKUP_PARTS': 'opencode',
            'OPENCODE_DB': str(database), 'OPENCODE_BIN': opencode_binary(),
            # backups are always encrypted: a fresh key per bench run
            'BACKUP_ENCRYPTION_KEY': subprocess.run([sys.executable, str(REPO / 'scripts' / 'backup'), '--new-key'],
                                                    capture_output=True, text=True, check=True).stdout.splitlines()[-1],
        })
        scripts = REPO / 'scripts'
        backups, restores, probes = [], [], []
        for _ in range(args.runs):
            backups.append(timed([sys.executable, str(scripts / 'backup'), '--no-prune'], env))
        size = database.stat().st_size + sum(Path(f'{database}{s}').stat().st_size for s in ('-wal',) if Path(f'{database}{s}').exists())
        server.stop()
        for _ in range(args.runs):
            shutil.rmtree(database.parent)
            restores.append(timed([sys.executable, str(scripts / 'restore'), '--only', 'opencode'], env))
            start = time.perf_counter()
            opencode_db.image_schema(opencode_binary())
            probes.append(time.perf_counter() - start)
        object_size = max(path.stat().st_size for path in remote.rglob('opencode.db.age'))
        server = OpencodeServer(home, project, work / 'opencode.log').start()
        relisted = len(server.sessions())
        print(f'machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, '
              f'opencode {subprocess.run([opencode_binary(), "--version"], capture_output=True, text=True).stdout.strip()}')
        print(f'database: {counts["session"]} sessions, {counts["message"]} messages, {counts["part"]} parts; '
              f'{size / 1e6:.1f} MB on disk (db + wal), backup object {object_size / 1e6:.1f} MB')
        print(f'server listed {listed} sessions before the backup (first page of GET /session) and {relisted} after the restore')
        print(f'backup --only opencode, server running ({args.runs} runs): median {statistics.median(backups):.2f} s, '
              f'runs {", ".join(f"{value:.2f}" for value in backups)}')
        print(f'restore --only opencode into a wiped data dir ({args.runs} runs): median {statistics.median(restores):.2f} s, '
              f'runs {", ".join(f"{value:.2f}" for value in restores)}')
        print(f'  the schema probe of restore alone (opencode db in a scratch dir), timed apart: median {statistics.median(probes):.2f} s')
    finally:
        if server is not None:
            server.stop()
        model.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()

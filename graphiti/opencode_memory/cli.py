"""Command line: `serve` runs the process; add/search/health talk to it; export/import go straight to FalkorDB."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import urllib.error
import urllib.request
from typing import Any

from .api_token import caller_token
from .config import EX_CONFIG, SecretError, Settings
from .failures import describe
from .logging_setup import configure_logging
from .tracing import install_trace_filter

DESCRIPTION = """OpenCode long-term memory: Graphiti on FalkorDB, fed through a durable Valkey queue.

  serve    run the HTTP API on 127.0.0.1:$MEMORY_PORT and the ingest worker
  add      queue an episode (through a running server)
  search   search facts and episodes (through a running server)
  health   print the running server's health; exit 1 unless status is ok
  export   write a group's graph as JSON (straight from FalkorDB)
  import   restore an export into an empty group (straight to FalkorDB, no LLM calls)

Settings come from the environment; see graphiti/README.md."""


def _server_url(path: str) -> str:
    port = os.environ.get('MEMORY_PORT', '8765')
    return f'http://127.0.0.1:{port}{path}'


def _call_server(method: str, path: str, body: dict[str, Any] | None = None, timeout: float = 130) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {'Content-Type': 'application/json'}
    token = caller_token(int(os.environ.get('MEMORY_PORT', '8765')))
    if token:
        headers['Authorization'] = f'Bearer {token}'
    request = urllib.request.Request(_server_url(path), data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b'{}')
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b'{}')
    except (urllib.error.URLError, OSError) as error:
        return 0, {'error': f'memory server not reachable at {_server_url("")}: {error}'}


def _scope(args: argparse.Namespace) -> dict[str, str]:
    if args.group_id:
        return {'group_id': args.group_id}
    return {'project_dir': os.path.abspath(args.project_dir or os.getcwd())}


def _print_answer(status: int, payload: Any, ok: tuple[int, ...]) -> int:
    print(json.dumps(payload, indent=2, ensure_ascii=False))
    return 0 if status in ok else 1


def _add_scope_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--project-dir', help='project directory (default: the current directory)')
    parser.add_argument('--group-id', help='explicit group id instead of one derived from the project directory')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='memory_manager.py', description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest='command', required=True, metavar='COMMAND')
    commands.add_parser('serve', help='run the HTTP API and the ingest worker')
    add = commands.add_parser('add', help='queue an episode')
    _add_scope_arguments(add)
    add.add_argument('content', help="the episode text; '-' reads stdin")
    add.add_argument('--name', default='cli episode')
    add.add_argument('--source', default='text', choices=('message', 'text', 'json'))
    add.add_argument('--source-description', default='memory_manager.py add')
    add.add_argument('--idempotency-key', default='')
    search = commands.add_parser('search', help='search facts and episodes')
    _add_scope_arguments(search)
    search.add_argument('query')
    search.add_argument('--limit', type=int, default=10)
    commands.add_parser('health', help="print the running server's health")
    export = commands.add_parser('export', help="write a group's graph as JSON")
    export.add_argument('--group', required=True, help='group id')
    export.add_argument('--out', required=True, help="output file; '-' for stdout")
    restore = commands.add_parser('import', help='restore an export into an empty group')
    restore.add_argument('--group', help="target group id (default: the document's)")
    restore.add_argument('file', help="export file; '-' reads stdin")
    return parser


async def _export(settings: Settings, group: str, out: str) -> int:
    from .graph_store import GraphStore
    from .group_ids import validate_group_id
    from .portability import export_group

    store = GraphStore(settings)
    try:
        document = await export_group(store, validate_group_id(group))
    finally:
        await store.close()
    text = json.dumps(document, ensure_ascii=False)
    if out == '-':
        sys.stdout.write(text + '\n')
    else:
        temporary = f'{out}.tmp'
        with open(temporary, 'w', encoding='utf-8') as handle:
            handle.write(text)
        os.replace(temporary, out)  # never leave a half-written export behind
    print(json.dumps({'exported': document['counts'], 'group_id': group}), file=sys.stderr)
    return 0


async def _import(settings: Settings, group: str | None, source: str) -> int:
    from .graph_store import GraphStore
    from .group_ids import validate_group_id
    from .portability import import_group

    text = sys.stdin.read() if source == '-' else open(source, encoding='utf-8').read()
    document = json.loads(text)
    target = validate_group_id(group or (document.get('group_id') if isinstance(document, dict) else None))
    store = GraphStore(settings)
    try:
        counts = await import_group(store, target, document)
    finally:
        await store.close()
    print(json.dumps({'imported': counts, 'group_id': target}))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging()
    try:
        settings = Settings.from_env()
    except SecretError as error:
        print(f'opencode-memory: {error}', file=sys.stderr)
        return EX_CONFIG
    install_trace_filter((settings.falkordb_host, settings.falkordb_port), (settings.valkey_host, settings.valkey_port))
    if args.command == 'serve':
        from .server_main import serve

        return asyncio.run(serve(settings))
    if args.command == 'add':
        content = sys.stdin.read() if args.content == '-' else args.content
        body = {
            **_scope(args), 'content': content, 'name': args.name, 'source': args.source,
            'source_description': args.source_description, 'idempotency_key': args.idempotency_key,
        }
        return _print_answer(*_call_server('POST', '/episodes', body), ok=(202,))
    if args.command == 'search':
        return _print_answer(*_call_server('POST', '/search', {**_scope(args), 'query': args.query, 'limit': args.limit}), ok=(200,))
    if args.command == 'health':
        status, payload = _call_server('GET', '/health', timeout=10)
        _print_answer(status, payload, ok=(200,))
        return 0 if status == 200 and payload.get('status') == 'ok' else 1
    try:
        if args.command == 'export':
            return asyncio.run(_export(settings, args.group, args.out))
        return asyncio.run(_import(settings, args.group, args.file))
    except Exception as error:
        print(f'{args.command} failed: {describe(error)}', file=sys.stderr)
        return 1

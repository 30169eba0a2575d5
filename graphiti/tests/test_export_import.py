"""Export a group to JSON and import it into an empty graph, with the CLI, without any model call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import graph_rows

from openai_compatible_server import OpenAICompatibleServer
from tests.support.real_servers import MEMORY_MANAGER, MemoryManager, RedisServer

COUNT_QUERIES = {
    'episodes': 'MATCH (n:Episodic) RETURN count(n)',
    'entities': 'MATCH (n:Entity) RETURN count(n)',
    'facts': 'MATCH ()-[r:RELATES_TO]->() RETURN count(r)',
    'mentions': 'MATCH ()-[r:MENTIONS]->() RETURN count(r)',
}


def graph_counts(falkordb: RedisServer, group_id: str) -> dict[str, int]:
    return {name: graph_rows(falkordb, group_id, cypher)[0][0] for name, cypher in COUNT_QUERIES.items()}


def test_export_then_import_into_an_empty_graph_gives_the_same_graph(
    memory_manager: MemoryManager,
    memory_env: dict[str, str],
    falkordb: RedisServer,
    openai_double: OpenAICompatibleServer,
    tmp_path: Path,
) -> None:
    memory_manager.add(group_id='source', content='Orion uses Postgres. Alice maintains Orion.')
    memory_manager.add(group_id='source', content='Orion uses Redis for caching.')
    memory_manager.wait_idle()
    export_file = tmp_path / 'source.json'

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(MEMORY_MANAGER), *args], env=memory_env, capture_output=True, text=True, timeout=120
        )

    exported = cli('export', '--group', 'source', '--out', str(export_file))
    assert exported.returncode == 0, exported.stderr
    document = json.loads(export_file.read_text())
    assert document['group_id'] == 'source'
    assert all(len(n['properties']['name_embedding']) == 256 for n in document['nodes'] if 'Entity' in n['labels'])

    openai_double.clear_requests()
    imported = cli('import', '--group', 'restored', str(export_file))
    assert imported.returncode == 0, imported.stderr
    assert [r for r in openai_double.requests() if r['path'].endswith('/chat/completions')] == []

    source_counts = graph_counts(falkordb, 'source')
    assert source_counts['episodes'] == 2 and source_counts['facts'] >= 3
    assert graph_counts(falkordb, 'restored') == source_counts
    status, found = memory_manager.request('POST', '/search', {'group_id': 'restored', 'query': 'Orion Postgres'})
    assert status == 200 and 'Orion uses Postgres.' in [fact['fact'] for fact in found['facts']]

    again = cli('import', '--group', 'restored', str(export_file))
    assert again.returncode == 1 and 'not empty' in again.stderr
    assert graph_counts(falkordb, 'restored') == source_counts


def test_http_export_and_import_round_trip(memory_manager: MemoryManager, falkordb: RedisServer) -> None:
    memory_manager.add(group_id='http_source', content='Vega uses Terraform.')
    memory_manager.wait_idle()
    status, document = memory_manager.request('GET', '/export?group_id=http_source')
    assert status == 200

    status, answer = memory_manager.request('POST', '/import?group_id=http_copy', document)
    assert status == 200, answer
    assert graph_counts(falkordb, 'http_copy') == graph_counts(falkordb, 'http_source')
    assert memory_manager.request('POST', '/import?group_id=http_copy', document)[0] == 409
    assert memory_manager.request('POST', '/import?group_id=x', {'format': 'other'})[0] == 400

"""The memory manager under ddtrace-run, driven over its HTTP API, reports to Datadog's APM test agent (the
double of the Datadog agent): its custom spans, redis-py spans to FalkorDB and to the Valkey queue, and the
openai/httpx2 spans of the LLM and embedder calls (answered by the local OpenAI-compatible server)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import EMBEDDING_DIM
from openai_compatible_server import OpenAICompatibleServer
from trace_stack import DatadogTestAgent, MemoryManagerUnderDdtrace, memory_env

from tests.support.real_servers import RedisServer, wait_until

pytestmark = pytest.mark.timeout(300)

SERVICE, ENV, VERSION = 'opencode-server', 'test', '0.1.0'
GROUP_ID = 'tracing_probe'
# Words that exist only in the episode text and the search query: they must not reach Datadog.
EPISODE_MARKER = 'Zanzibarquux'
QUERY_MARKER = 'plovdivian'
EPISODE_TEXT = f'Orion uses {EPISODE_MARKER}. Orion runs on Kubernetes.'
SEARCH_QUERY = f'Which {QUERY_MARKER} tool does Orion use with {EPISODE_MARKER}?'
CUSTOM_OPERATIONS = ('memory.enqueue', 'memory.ingest', 'memory.search', 'memory.export')

Span = dict[str, Any]


@dataclass
class TracedRun:
    traces: list[list[Span]]
    falkordb: RedisServer
    valkey: RedisServer
    openai_base_url: str
    search_answer: dict[str, Any]
    log: str

    @property
    def spans(self) -> list[Span]:
        return [span for trace in self.traces for span in trace]

    def named(self, name: str) -> list[Span]:
        return [span for span in self.spans if span['name'] == name]

    def one(self, name: str) -> Span:
        found = self.named(name)
        assert len(found) == 1, f'{len(found)} spans named {name}: {[s["resource"] for s in found]}'
        return found[0]

    def trace_of(self, span: Span) -> list[Span]:
        return [other for other in self.spans if other['trace_id'] == span['trace_id']]


def _received(agent: DatadogTestAgent) -> list[list[Span]] | None:
    traces = agent.traces()
    names = {span['name'] for trace in traces for span in trace}
    return traces if names.issuperset(CUSTOM_OPERATIONS) else None


@pytest.fixture(scope='module')
def traced_run(module_datadog_test_agent: DatadogTestAgent, module_falkordb: RedisServer, module_valkey: RedisServer,
               openai_double: OpenAICompatibleServer, module_dir: Path) -> Iterator[TracedRun]:
    agent = module_datadog_test_agent
    env = memory_env(
        falkordb_port=module_falkordb.port, valkey_port=module_valkey.port, openai_base_url=openai_double.base_url,
        embedding_dim=EMBEDDING_DIM,
        tracing={'DD_TRACE_AGENT_URL': agent.url, 'DD_SERVICE': SERVICE, 'DD_ENV': ENV, 'DD_VERSION': VERSION},
    )
    manager = MemoryManagerUnderDdtrace(env, module_dir).start()
    try:
        status, queued = manager.request('POST', '/episodes', {
            'group_id': GROUP_ID, 'name': 'tracing probe', 'content': EPISODE_TEXT, 'source': 'message',
            'source_description': 'tracing test',
        })
        assert status == 202, queued
        manager.wait_stored(1)
        status, answer = manager.request('POST', '/search', {'group_id': GROUP_ID, 'query': SEARCH_QUERY})
        assert status == 200, answer
        status, exported = manager.request('GET', f'/export?group_id={GROUP_ID}')
        assert status == 200, exported
        traces = wait_until(lambda: _received(agent), 30, f'the custom spans at the test agent (log: {manager.log_path})')
        yield TracedRun(traces, module_falkordb, module_valkey, openai_double.base_url, answer, manager.log_path.read_text())
    finally:
        manager.stop()


def test_search_answers_while_traced_local_openai_compatible_server(traced_run: TracedRun) -> None:
    assert any('Orion' in fact['fact'] for fact in traced_run.search_answer['facts']), traced_run.search_answer


def test_every_span_carries_env_and_the_process_spans_carry_service_and_version_datadog_test_agent(
        traced_run: TracedRun) -> None:
    assert traced_run.spans
    assert {span['meta'].get('env') for span in traced_run.spans} == {ENV}
    own = [span for span in traced_run.spans if span['service'] == SERVICE]
    assert {span['name'] for span in own} >= {*CUSTOM_OPERATIONS, 'openai.request', 'http.request'}
    assert {span['meta'].get('version') for span in own} == {VERSION}


def test_custom_spans_name_the_work_and_tag_the_group_datadog_test_agent(traced_run: TracedRun) -> None:
    for operation in CUSTOM_OPERATIONS:
        span = traced_run.one(operation)
        assert span['service'] == SERVICE
        assert span['resource'] == operation
        assert span['meta'].get('memory.group_id') == GROUP_ID, span
        assert span['error'] == 0, span
    ingest = traced_run.one('memory.ingest')
    assert ingest['parent_id'] == 0
    assert ingest['meta'].get('memory.stored') == 'True'


def test_falkordb_graph_queries_are_spans_of_service_falkordb_datadog_test_agent(traced_run: TracedRun) -> None:
    graph_queries = [span for span in traced_run.named('redis.command') if span['resource'] == 'GRAPH.QUERY']
    assert graph_queries
    for span in graph_queries:
        assert span['service'] == 'falkordb'
        assert span['meta']['peer.service'] == 'falkordb'
        assert span['meta']['db.system'] == 'redis'
        assert span['metrics']['network.destination.port'] == traced_run.falkordb.port
    # graphiti also queries its default graph (indices); the group's own graph is named after the group.
    assert GROUP_ID in {span['meta'].get('falkordb.graph') for span in graph_queries}
    for operation in ('memory.ingest', 'memory.search', 'memory.export'):
        resources = {s['resource'] for s in traced_run.trace_of(traced_run.one(operation)) if s['service'] == 'falkordb'}
        assert 'GRAPH.QUERY' in resources or 'GRAPH.RO_QUERY' in resources, (operation, resources)


def test_valkey_queue_commands_are_spans_of_service_valkey_datadog_test_agent(traced_run: TracedRun) -> None:
    queue_spans = [span for span in traced_run.named('redis.command') if span['service'] == 'valkey']
    assert queue_spans
    for span in queue_spans:
        assert span['meta']['peer.service'] == 'valkey'
        assert span['metrics']['network.destination.port'] == traced_run.valkey.port
        assert not span['resource'].startswith('GRAPH.')
    enqueue_resources = {s['resource'] for s in traced_run.trace_of(traced_run.one('memory.enqueue'))}
    assert 'XADD' in enqueue_resources
    ingest_valkey = [s['resource'] for s in traced_run.trace_of(traced_run.one('memory.ingest')) if s['service'] == 'valkey']
    assert any(resource.startswith('XACK') for resource in ingest_valkey), ingest_valkey


def test_llm_and_embedder_calls_are_openai_and_httpx2_spans_local_openai_compatible_server(traced_run: TracedRun) -> None:
    ingest_trace = traced_run.trace_of(traced_run.one('memory.ingest'))
    openai_spans = [span for span in ingest_trace if span['name'] == 'openai.request']
    assert {span['resource'] for span in openai_spans} >= {'createChatCompletion', 'createEmbedding'}
    models = {span['meta'].get('openai.request.model') for span in openai_spans}
    assert 'double-embedding' in models and models & {'double-chat', 'double-small'}, models
    http_spans = [span for span in ingest_trace if span['name'] == 'http.request']
    assert http_spans
    assert {span['meta']['component'] for span in http_spans} == {'httpx2'}
    assert all(span['meta']['http.url'].startswith(traced_run.openai_base_url) for span in http_spans)
    search_trace = traced_run.trace_of(traced_run.one('memory.search'))
    assert 'createEmbedding' in {span['resource'] for span in search_trace if span['name'] == 'openai.request'}


def test_no_episode_text_or_query_reaches_the_datadog_test_agent(traced_run: TracedRun) -> None:
    sent = json.dumps(traced_run.traces)
    assert EPISODE_MARKER not in sent
    assert QUERY_MARKER not in sent
    for span in traced_run.named('redis.command'):
        assert span['meta'].get('redis.raw_command') == span['resource'], span['meta'].get('redis.raw_command')


def test_idle_queue_polls_and_passing_health_checks_are_not_sent_datadog_test_agent(traced_run: TracedRun) -> None:
    # wait_stored polled /health many times, and the worker polled the queue every second meanwhile.
    for trace in traced_run.traces:
        assert {span['resource'] for span in trace} != {'XREADGROUP'}, trace
    assert traced_run.named('memory.health') == []


def test_a_log_line_made_in_a_span_names_its_trace_datadog_test_agent(traced_run: TracedRun) -> None:
    """ddtrace's log injection, in the form Datadog's Python log pipeline parses: the line of the enqueue names the
    trace of the memory.enqueue span the test agent received (the log's id is the trace's 128 bits in hex, the span's
    `trace_id` their lower 64), and a line made outside any span names none."""
    [line] = [line for line in traced_run.log.splitlines() if 'queued episode' in line]
    match = re.search(r'\[dd\.trace_id=([0-9a-f]+) dd\.span_id=(\d+)\]: queued episode', line)
    assert match, line
    log_trace = int(match.group(1), 16) if len(match.group(1)) == 32 else int(match.group(1))
    enqueue = traced_run.one('memory.enqueue')
    assert log_trace & (2**64 - 1) == enqueue['trace_id']
    assert int(match.group(2)) == enqueue['span_id']
    listening = next(line for line in traced_run.log.splitlines() if 'memory manager listening' in line)
    assert 'dd.trace_id' not in listening

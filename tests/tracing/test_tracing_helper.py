"""graphiti/opencode_memory/tracing.py on its own: inert without ddtrace-run or with tracing off, error spans
at Datadog's APM test agent, and the trace filter's rules on ddtrace's own Span objects."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest
from trace_stack import VENV_BIN, DatadogTestAgent

from tests.support.real_servers import REPO, wait_until

GRAPHITI_DIR = REPO / 'graphiti'
sys.path.insert(0, str(GRAPHITI_DIR))

from opencode_memory import tracing  # noqa: E402

pytestmark = pytest.mark.timeout(120)

FALKORDB, VALKEY = ('localhost', 6379), ('localhost', 6380)


def _run_python(script: str, env: dict[str, str], under_ddtrace: bool) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, '-c', textwrap.dedent(script)]
    if under_ddtrace:
        command = [str(VENV_BIN / 'ddtrace-run'), *command]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(('DD_', 'OTEL_')) and k != 'PYTHONPATH'}
    return subprocess.run(command, env={**clean, **env}, cwd=GRAPHITI_DIR, capture_output=True, text=True, timeout=60)


INERT_SCRIPT = """
    import sys
    from opencode_memory.tracing import install_trace_filter, traced
    with traced('memory.search', group_id='g1', limit=3) as span:
        span.set('memory.anything', 'value')
        span.group_id('g2')
    try:
        with traced('memory.ingest'):
            raise ValueError('the block fails')
    except ValueError as error:
        assert str(error) == 'the block fails'
    else:
        raise AssertionError('the exception was swallowed')
    assert install_trace_filter(('localhost', 6379), ('localhost', 6380)) is False
    print('inert, tracer loaded:', 'ddtrace.trace' in sys.modules)
"""


def test_traced_is_inert_without_ddtrace_run() -> None:
    done = _run_python(INERT_SCRIPT, {}, under_ddtrace=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == 'inert, tracer loaded: False'  # the helper never starts a tracer itself


def test_traced_is_inert_when_tracing_is_disabled_datadog_test_agent(datadog_test_agent: DatadogTestAgent) -> None:
    env = {'DD_TRACE_ENABLED': 'false', 'DD_TRACE_AGENT_URL': datadog_test_agent.url}
    done = _run_python(INERT_SCRIPT, env, under_ddtrace=True)
    assert done.returncode == 0, done.stderr
    # ddtrace-run loaded the tracer, yet install_trace_filter said no: the helper saw tracing was off.
    assert done.stdout.strip() == 'inert, tracer loaded: True'
    assert datadog_test_agent.traces() == []


def test_traced_records_errors_but_not_cancellation_datadog_test_agent(datadog_test_agent: DatadogTestAgent) -> None:
    script = """
        import asyncio
        from opencode_memory.tracing import traced
        try:
            with traced('memory.ingest', group_id='failing_group'):
                raise RuntimeError('graph write refused')
        except RuntimeError:
            pass
        async def cancelled():
            with traced('memory.search', group_id='cancelled_group'):
                raise asyncio.CancelledError()
        try:
            asyncio.run(cancelled())
        except asyncio.CancelledError:
            pass
    """
    env = {'DD_TRACE_AGENT_URL': datadog_test_agent.url, 'DD_SERVICE': 'opencode-server', 'DD_ENV': 'test'}
    done = _run_python(script, env, under_ddtrace=True)
    assert done.returncode == 0, done.stderr
    spans = wait_until(lambda: len(s := [x for t in datadog_test_agent.traces() for x in t]) >= 2 and s, 30,
                       'two spans at the test agent')
    by_name = {span['name']: span for span in spans}
    failed, cancelled = by_name['memory.ingest'], by_name['memory.search']
    assert failed['error'] == 1
    assert failed['meta']['error.type'] == 'builtins.RuntimeError'
    assert failed['meta']['memory.group_id'] == 'failing_group'
    assert failed['service'] == 'opencode-server' and failed['meta']['env'] == 'test'
    assert cancelled['error'] == 0
    assert cancelled['meta']['memory.group_id'] == 'cancelled_group'


def _span(name: str, resource: str, service: str = 'redis', parent_id: int | None = None,
          tags: dict[str, str | int] | None = None) -> Any:
    from ddtrace._trace.span import Span

    span = Span(name, service=service, resource=resource, parent_id=parent_id)
    for key, value in (tags or {}).items():
        if isinstance(value, int):
            span.set_metric(key, value)
        else:
            span.set_tag(key, value)
    return span


def _redis_span(resource: str, raw: str, port: int, service: str = 'redis', parent_id: int | None = 1) -> Any:
    tags = {'component': 'redis', 'out.host': 'localhost', 'network.destination.port': port, 'redis.raw_command': raw}
    return _span('redis.command', resource, service, parent_id, tags)


def _filter() -> Any:
    return tracing._make_trace_filter_class()(FALKORDB, VALKEY)


def test_filter_names_redis_spans_by_server_and_strips_their_arguments() -> None:
    graph = _redis_span('GRAPH.QUERY', 'GRAPH.QUERY my_group CYPHER `query`="secret words" MATCH (n) RETURN n', 6379)
    queue = _redis_span('XADD', 'XADD opencode-memory:episodes * content secret words', 6380)
    kept = _filter().process_trace([_span('memory.ingest', 'memory.ingest', 'opencode-server'), graph, queue])
    assert kept is not None and len(kept) == 3
    assert (graph.service, graph.get_tag('peer.service'), graph.get_tag('falkordb.graph')) == ('falkordb', 'falkordb', 'my_group')
    assert (queue.service, queue.get_tag('peer.service')) == ('valkey', 'valkey')
    assert graph.get_tag('redis.raw_command') == 'GRAPH.QUERY'
    assert queue.get_tag('redis.raw_command') == 'XADD'


def test_filter_keeps_a_service_name_the_user_chose() -> None:
    span = _redis_span('XLEN', 'XLEN opencode-memory:episodes', 6380, service='my-redis')
    _filter().process_trace([span])
    assert span.service == 'my-redis'
    assert span.get_tag('peer.service') == 'valkey'


def test_filter_drops_idle_polls_and_passing_health_checks_only() -> None:
    assert _filter().process_trace([_redis_span('XREADGROUP', 'XREADGROUP GROUP g c', 6380, parent_id=None)]) is None
    failed_poll = _redis_span('XREADGROUP', 'XREADGROUP GROUP g c', 6380, parent_id=None)
    failed_poll.error = 1
    assert _filter().process_trace([failed_poll]) == [failed_poll]
    health = _span('memory.health', 'memory.health', 'opencode-server')
    assert _filter().process_trace([health, _redis_span('PING', 'PING', 6379)]) is None
    failing_ping = _redis_span('PING', 'PING', 6379)
    failing_ping.error = 1
    assert _filter().process_trace([_span('memory.health', 'memory.health', 'opencode-server'), failing_ping]) is not None


def test_filter_never_raises_and_sends_what_it_cannot_read() -> None:
    class Opaque:
        error = 0

    trace = [Opaque()]
    assert _filter().process_trace(trace) == trace

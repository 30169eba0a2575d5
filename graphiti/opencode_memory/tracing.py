"""Datadog tracing for the memory process: custom spans and a trace filter, both inert without ddtrace-run.

ddtrace-run (the image's entrypoint wraps OpenCode, whose environment this process inherits) auto-instruments
redis-py (the Valkey queue and FalkorDB's GRAPH.* commands), openai and httpx2. This module adds what the
integrations cannot know: one span per unit of memory work (`traced`), and `install_trace_filter`, which
  - names redis spans after the server they went to (service `falkordb` or `valkey`, and peer.service),
  - strips `redis.raw_command` down to the command names, because it carries episode text and search queries
    (XADD fields, GRAPH.QUERY parameters) that must not leave the pod,
  - drops traces that only say "the worker polled an empty queue" or "a health check passed".

Nothing here imports ddtrace: when ddtrace-run did not load it (plain `python memory_manager.py`, the tests of
the memory manager), every function is a no-op. Nothing here raises into the caller or waits on the network:
spans are buffered in memory and ddtrace's own writer thread sends them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

FALKORDB_SERVICE = 'falkordb'
VALKEY_SERVICE = 'valkey'
GROUP_ID_TAG = 'memory.group_id'
GRAPH_TAG = 'falkordb.graph'
# The redis integration's own service name; a user's DD_REDIS_SERVICE (or schema v1) is left alone.
REDIS_INTEGRATION_SERVICE = 'redis'
# The worker blocks on XREADGROUP for up to a second at a time: one trace per second when idle.
IDLE_POLL_COMMANDS = frozenset({'XREADGROUP'})
HEALTH_OPERATION = 'memory.health'
_GRAPH_NAME = re.compile(r'^[A-Za-z0-9_-]+$')


def _tracer() -> Any | None:
    """ddtrace's global tracer if ddtrace-run (or ddtrace.auto) loaded it and tracing is on, else None."""
    if 'ddtrace' not in sys.modules:
        return None
    try:
        from ddtrace.trace import tracer

        return tracer if tracer.enabled else None
    except Exception:
        return None


class SpanTags:
    """Lets the traced block add tags it learns late (a group id parsed from the queue); a no-op without a span."""

    def __init__(self, span: Any | None) -> None:
        self._span = span

    def set(self, key: str, value: str | int | float | bool | None) -> None:
        if self._span is None or value is None:
            return
        try:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self._span.set_metric(key, value)
            else:
                self._span.set_tag(key, str(value))
        except Exception:
            logger.debug('could not tag span with %s', key, exc_info=True)

    def group_id(self, group_id: str | None) -> None:
        self.set(GROUP_ID_TAG, group_id)


@contextmanager
def traced(operation: str, group_id: str | None = None, **tags: str | int | float | bool | None) -> Iterator[SpanTags]:
    """A span named `operation` around the block, child of the active span; the block's exception marks it
    as an error and propagates unchanged. Tag ids and counts only, never episode text or queries."""
    span = None
    tracer = _tracer()
    if tracer is not None:
        try:
            span = tracer.trace(operation, resource=operation, span_type='worker')
        except Exception:
            logger.debug('could not start span %s', operation, exc_info=True)
    handle = SpanTags(span)
    handle.group_id(group_id)
    for key, value in tags.items():
        handle.set(key, value)
    try:
        yield handle
    except BaseException as error:
        # A cancelled task (shutdown) is not a failure of the work.
        if span is not None and not isinstance(error, (asyncio.CancelledError, GeneratorExit, KeyboardInterrupt)):
            try:
                span.set_exc_info(type(error), error, error.__traceback__)
            except Exception:
                logger.debug('could not record the error on span %s', operation, exc_info=True)
        raise
    finally:
        if span is not None:
            try:
                span.finish()
            except Exception:
                logger.debug('could not finish span %s', operation, exc_info=True)


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _make_trace_filter_class() -> type:
    from ddtrace.trace import TraceFilter

    class MemoryTraceFilter(TraceFilter):
        def __init__(self, falkordb: tuple[str, int], valkey: tuple[str, int]) -> None:
            self.servers = {falkordb: FALKORDB_SERVICE, valkey: VALKEY_SERVICE}

        def process_trace(self, trace: list[Any]) -> list[Any] | None:
            try:
                if self._is_noise(trace):
                    return None
                for span in trace:
                    if span.get_tag('component') == 'redis':
                        self._label_redis_span(span)
            except Exception:
                logger.debug('trace filter failed; trace sent as it was', exc_info=True)
            return trace

        def _is_noise(self, trace: list[Any]) -> bool:
            if any(span.error for span in trace):
                return False
            if all(span.get_tag('component') == 'redis' and span.resource in IDLE_POLL_COMMANDS for span in trace):
                return True
            return any(span.name == HEALTH_OPERATION and span.parent_id in (None, 0) for span in trace)

        def _label_redis_span(self, span: Any) -> None:
            raw = span.get_tag('redis.raw_command') or ''
            words = raw.split(' ', 2)
            server = self._server_of(span, words[0])
            if server is not None:
                span.set_tag('peer.service', server)
                if span.service == REDIS_INTEGRATION_SERVICE:
                    span.service = server
            if words[0].upper().startswith('GRAPH.') and len(words) > 1 and _GRAPH_NAME.match(words[1]):
                span.set_tag(GRAPH_TAG, words[1])  # a group's graph is named after its group id
            if raw:
                span.set_tag('redis.raw_command', span.resource)

        def _server_of(self, span: Any, command: str) -> str | None:
            host = span.get_tag('out.host')
            port = _port(span.get_metric('network.destination.port') or span.get_tag('network.destination.port'))
            if (host, port) in self.servers:
                return self.servers[(host, port)]
            return FALKORDB_SERVICE if command.upper().startswith('GRAPH.') else None

    return MemoryTraceFilter


def install_trace_filter(falkordb: tuple[str, int], valkey: tuple[str, int]) -> bool:
    """Registers the filter on ddtrace's tracer; True if it is in place. Call once, at startup."""
    tracer = _tracer()
    if tracer is None:
        return False
    try:
        tracer.configure(trace_processors=[_make_trace_filter_class()(falkordb, valkey)])
        return True
    except Exception:
        logger.warning('could not install the trace filter; redis spans keep their raw commands', exc_info=True)
        return False

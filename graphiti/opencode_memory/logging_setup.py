"""Logs go to stderr, one line per event, bounded in size, and never with episode or query text: graphiti and the
clients under it log failed queries with their parameters and requests with their bodies."""

from __future__ import annotations

import logging
import os
import sys
import time

MAX_MESSAGE_CHARS = 2000
# ddtrace's trace writer logs each dropped payload at ERROR with a traceback (rate-limited to one a minute per call
# site by ddtrace). Without an agent that is the whole log: it becomes one line, then a reminder every 10 minutes.
DDTRACE_WRITER_LOGGER = 'ddtrace.internal.writer.writer'
AGENT_REMIND_SECONDS = 600.0


LOG_FORMAT = '%(asctime)s %(levelname)s %(name)s: %(message)s'
# A record made inside a span (ddtrace's log injection adds its ids under ddtrace-run) names its trace, in the form
# Datadog's Python log pipeline parses, so a trace links to its log lines and a line to its trace.
TRACED_LOG_FORMAT = '%(asctime)s %(levelname)s %(name)s [dd.trace_id=%(dd.trace_id)s dd.span_id=%(dd.span_id)s]: %(message)s'


class TruncatingFormatter(logging.Formatter):
    def __init__(self, fmt: str = LOG_FORMAT) -> None:
        super().__init__(fmt)
        self.traced = logging.Formatter(TRACED_LOG_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        in_span = str(getattr(record, 'dd.trace_id', '0')) not in ('0', '')
        text = self.traced.format(record) if in_span else super().format(record)
        if len(text) > MAX_MESSAGE_CHARS:
            return text[:MAX_MESSAGE_CHARS] + f'… [{len(text) - MAX_MESSAGE_CHARS} more chars]'
        return text


# Libraries that handle episode text and queries: their records keep the first line of the message only (graphiti's
# FalkorDB driver puts the query on the second line and its parameters, the episode's text, on the third).
CONTENT_HANDLING_LOGGERS = ('graphiti_core', 'falkordb', 'redis', 'openai', 'httpx', 'httpcore')
FIRST_LINE_MAX_CHARS = 300


class ContentFreeFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(CONTENT_HANDLING_LOGGERS):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's malformed format string: say so rather than print its arguments
            message = str(record.msg)
        first_line = message.split('\n', 1)[0][:FIRST_LINE_MAX_CHARS]
        if record.exc_info and record.exc_info[1] is not None:
            first_line += f' ({type(record.exc_info[1]).__name__})'
        record.msg, record.args = first_line, None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


class UnreachableAgentFilter(logging.Filter):
    """Turns ddtrace's "failed to send, dropping N traces to intake at URL" (with traceback) into one WARNING line
    naming the agent and what happens meanwhile; later ones are dropped until a reminder is due."""

    def __init__(self, remind_seconds: float = AGENT_REMIND_SECONDS, clock=time.monotonic) -> None:
        super().__init__()
        self.remind_seconds = remind_seconds
        self.clock = clock
        self.dropped_reports = 0
        self._last_line: float | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith('failed to send'):
            return True
        self.dropped_reports += 1
        now = self.clock()
        if self._last_line is not None and now - self._last_line < self.remind_seconds:
            return False
        intake = record.args[1] if isinstance(record.args, tuple) and len(record.args) > 1 else 'the agent'
        first = self._last_line is None
        self._last_line = now
        record.msg = ('cannot reach the Datadog agent at %s; traces are dropped while it is away (ddtrace retries on '
                      'every flush; reported again every %.0f min)%s')
        record.args = (intake, self.remind_seconds / 60,
                       '' if first else f'; {self.dropped_reports} failed sends so far')
        record.levelno, record.levelname = logging.WARNING, 'WARNING'
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TruncatingFormatter())
    handler.addFilter(ContentFreeFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get('MEMORY_LOG_LEVEL', 'INFO').upper())
    # Per-request chatter from the HTTP clients adds nothing the worker does not already log.
    for noisy in ('httpx', 'httpx2', 'openai', 'neo4j', 'posthog'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It reports every already-existing index at INFO on each start; its errors stay visible.
    logging.getLogger('graphiti_core.driver.falkordb_driver').setLevel(logging.WARNING)
    # ddtrace-run gives the `ddtrace` logger its own bare stderr handler; its records also reach the root handler
    # above, so every ddtrace line would be printed twice (once without a timestamp).
    ddtrace_logger = logging.getLogger('ddtrace')
    ddtrace_logger.handlers[:] = [
        existing for existing in ddtrace_logger.handlers if type(existing) is not logging.StreamHandler
    ]
    writer_logger = logging.getLogger(DDTRACE_WRITER_LOGGER)
    if not any(isinstance(existing, UnreachableAgentFilter) for existing in writer_logger.filters):
        writer_logger.addFilter(UnreachableAgentFilter())

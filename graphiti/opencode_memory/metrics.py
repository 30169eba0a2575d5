"""Memory's own figures through the Datadog agent's DogStatsD (issue 23), with the unified service tags, when
DD_AGENT_HOST or DD_DOGSTATSD_URL says where the agent is; otherwise every call is a no-op. Sending never blocks nor
fails the memory process (UDP; errors are dropped by the client).

    opencode_server.memory.queue.depth        gauge      episodes queued and not yet stored
    opencode_server.memory.dead_letters       gauge      episodes given up on, kept for inspection
    opencode_server.memory.episodes.stored    count      episodes stored in the graph
    opencode_server.memory.ingestion_lag      histogram  seconds from queued to stored
    opencode_server.memory.recall.requests    count      searches answered
    opencode_server.memory.recall.latency     histogram  milliseconds a search took
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = 'opencode_server.memory.'
# How often the gauges (queue depth, dead letters) are read and sent.
GAUGE_INTERVAL_SECONDS = 10.0


def unified_tags(environ: Mapping[str, str]) -> list[str]:
    return [f'{tag}:{environ[variable]}' for tag, variable in (('env', 'DD_ENV'), ('service', 'DD_SERVICE'),
                                                                ('version', 'DD_VERSION')) if environ.get(variable)]


def agent_address(environ: Mapping[str, str]) -> tuple[str, int] | None:
    url = environ.get('DD_DOGSTATSD_URL', '')
    if url.startswith('udp://'):
        host, _, port = url[len('udp://'):].rpartition(':')
        return host, int(port)
    if environ.get('DD_AGENT_HOST'):
        return environ['DD_AGENT_HOST'], int(environ.get('DD_DOGSTATSD_PORT') or 8125)
    return None


class Metrics:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        environ = os.environ if environ is None else environ
        address = agent_address(environ)
        self.client = None
        if address is not None:
            from ddtrace.vendor.dogstatsd import DogStatsd

            self.client = DogStatsd(host=address[0], port=address[1], disable_telemetry=True)
            # the client also adds DD_ENV/DD_SERVICE/DD_VERSION of the process environment: exactly these, once
            self.client.constant_tags = unified_tags(environ)

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def gauge(self, name: str, value: float) -> None:
        if self.client is not None:
            self.client.gauge(PREFIX + name, value)

    def increment(self, name: str, value: int = 1) -> None:
        if self.client is not None:
            self.client.increment(PREFIX + name, value)

    def histogram(self, name: str, value: float) -> None:
        if self.client is not None:
            self.client.histogram(PREFIX + name, value)

    def close(self) -> None:
        if self.client is not None:
            self.client.close_socket()


def stream_entry_age_seconds(entry_id: str, now_seconds: float) -> float:
    """A Valkey stream entry's age: its id begins with the time it was added, in milliseconds."""
    return max(0.0, now_seconds - int(entry_id.split('-', 1)[0]) / 1000)

"""Logs go to stderr, one line per event, bounded in size (graphiti logs whole query parameters on errors)."""

from __future__ import annotations

import logging
import os
import sys

MAX_MESSAGE_CHARS = 2000


class TruncatingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if len(text) > MAX_MESSAGE_CHARS:
            return text[:MAX_MESSAGE_CHARS] + f'… [{len(text) - MAX_MESSAGE_CHARS} more chars]'
        return text


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TruncatingFormatter('%(asctime)s %(levelname)s %(name)s: %(message)s'))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get('MEMORY_LOG_LEVEL', 'INFO').upper())
    # Per-request chatter from the HTTP clients adds nothing the worker does not already log.
    for noisy in ('httpx', 'httpx2', 'openai', 'neo4j', 'posthog'):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # It reports every already-existing index at INFO on each start; its errors stay visible.
    logging.getLogger('graphiti_core.driver.falkordb_driver').setLevel(logging.WARNING)

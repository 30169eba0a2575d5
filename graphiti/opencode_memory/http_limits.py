"""What keeps the memory API standing when anyone who can reach it misbehaves: a cap on connections served at once,
a bound on JSON nesting, and a log that a flood of unauthenticated requests cannot fill."""

from __future__ import annotations

import logging
import threading
import time

MAX_JSON_DEPTH = 64
UNAUTHORIZED_LOG_INTERVAL_SECONDS = 60.0
BUSY_RESPONSE = (b'HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n'
                 b'Content-Length: 44\r\nConnection: close\r\n\r\n{"error": "too many connections; try again"}')


def json_depth_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects nest deeper than `limit`, found by one scan (json.loads would recurse first)."""
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == '\\':
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in '[{':
            depth += 1
            if depth > limit:
                return True
        elif char in ']}':
            depth -= 1
    return False


class UnauthorizedLog:
    """One WARNING line a minute at most for requests without a valid token, with how many came; never their path,
    headers or body (a scanner's bytes are not worth a log line each)."""

    def __init__(self, logger: logging.Logger, interval: float = UNAUTHORIZED_LOG_INTERVAL_SECONDS,
                 clock=time.monotonic) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self.lock = threading.Lock()
        self.last_line: float | None = None
        self.unlogged = 0

    def record(self) -> None:
        with self.lock:
            self.unlogged += 1
            now = self.clock()
            if self.last_line is not None and now - self.last_line < self.interval:
                return
            count, self.unlogged, self.last_line = self.unlogged, 0, now
        self.logger.warning('%d request(s) refused with 401: no valid memory API token (logged at most once a minute)',
                            count)

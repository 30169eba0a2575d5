"""One log line per outage of a server the memory process needs, not one per retry.

Run alone (no FalkorDB, no Valkey, no Datadog agent), the process used to print a traceback every second. Now each
dependency says once what it cannot reach, why, and how it retries; then nothing until it is back (one line) or a
reminder is due (every REMIND_SECONDS, with the count of failed attempts).
"""

from __future__ import annotations

import logging
import time

from .failures import describe

REMIND_SECONDS = 600.0


class OutageReport:
    def __init__(self, logger: logging.Logger, what: str, address: str, retry_policy: str,
                 remind_seconds: float = REMIND_SECONDS, clock=time.monotonic) -> None:
        self.logger = logger
        self.what = what
        self.address = address
        self.retry_policy = retry_policy
        self.remind_seconds = remind_seconds
        self.clock = clock
        self.down_since: float | None = None
        self.failures = 0
        self._last_line = 0.0

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, error: BaseException, retry_in_seconds: float) -> None:
        now = self.clock()
        self.failures += 1
        if self.down_since is None:
            self.down_since = now
            self._last_line = now
            self.logger.warning('cannot reach %s at %s (%s); retrying in %.0fs, %s', self.what, self.address,
                                describe(error), retry_in_seconds, self.retry_policy)
        elif now - self._last_line >= self.remind_seconds:
            self._last_line = now
            self.logger.warning('%s at %s still unreachable after %.0fs and %d attempts (%s); still retrying',
                                self.what, self.address, now - self.down_since, self.failures, describe(error))

    def recovered(self) -> None:
        if self.down_since is None:
            return
        self.logger.info('%s at %s is reachable again (after %.0fs, %d failed attempts)', self.what, self.address,
                         self.clock() - self.down_since, self.failures)
        self.down_since = None
        self.failures = 0

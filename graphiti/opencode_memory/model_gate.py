"""One gate for every call this process makes to the model provider: at most MEMORY_MODEL_CONCURRENCY at once, and
when the provider answers 429, no call at all until its Retry-After has passed.

The OpenAI SDK honours Retry-After only for the call that got it (and only up to 60 s); the other calls in flight, and
the ones each ingestion lane starts meanwhile, would each run into the same limit and earn a 429 of their own. Here
the first 429 pauses them all. It sits under the SDK as an httpx transport, so the SDK's and graphiti's own retries
still apply and nothing about a request changes."""

from __future__ import annotations

import asyncio
import email.utils
import logging
import time

import httpx2

logger = logging.getLogger(__name__)
# A 429 without Retry-After (or retry-after-ms) pauses this long.
DEFAULT_PAUSE_SECONDS = 2.0


def retry_after_seconds(headers: httpx2.Headers, now: float | None = None) -> float | None:
    """Retry-After as seconds or an HTTP date, or OpenAI's retry-after-ms; None if absent or unreadable."""
    milliseconds = headers.get('retry-after-ms')
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get('retry-after')
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ModelGate:
    def __init__(self, concurrency: int, max_pause_seconds: float) -> None:
        self.concurrency = concurrency
        self.max_pause_seconds = max_pause_seconds
        self._slots: asyncio.Semaphore | None = None
        self._paused_until = 0.0  # time.monotonic()
        self.pauses = 0
        self._last_logged = 0.0

    def _semaphore(self) -> asyncio.Semaphore:
        # Made on first use, inside the loop that uses it.
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots

    def paused_for(self) -> float:
        return max(0.0, self._paused_until - time.monotonic())

    def pause(self, seconds: float | None) -> None:
        seconds = min(self.max_pause_seconds, DEFAULT_PAUSE_SECONDS if seconds is None else seconds)
        until = time.monotonic() + seconds
        if until > self._paused_until:
            self._paused_until = until
            self.pauses += 1
            now = time.monotonic()
            if now - self._last_logged >= 60:  # one line a minute while the provider keeps refusing
                self._last_logged = now
                logger.warning('the model provider answered 429: no model call for %.1f s (Retry-After)', seconds)

    async def __aenter__(self) -> ModelGate:
        slots = self._semaphore()
        while True:
            while (wait := self.paused_for()) > 0:
                await asyncio.sleep(wait)
            await slots.acquire()
            if self.paused_for() == 0:
                return self
            slots.release()  # paused while this call waited for its slot

    async def __aexit__(self, *exc_info: object) -> None:
        self._semaphore().release()


class GatedTransport(httpx2.AsyncBaseTransport):
    def __init__(self, gate: ModelGate, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.gate = gate
        self.inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        async with self.gate:
            response = await self.inner.handle_async_request(request)
        if response.status_code == 429:
            self.gate.pause(retry_after_seconds(response.headers))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

"""Searches on an event loop of their own, in a thread of their own, with their own FalkorDB connections and model
client: a turn's recall never waits while ingestion holds the main loop. Measured (docs/benchmarks/memory.md): during
a busy project's bulk pass the main loop stalls for up to 1.5 s at a time (graphiti's deduplication is CPU work on the
loop) while FalkorDB itself answers the same reads in about a millisecond."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from collections.abc import Awaitable
from typing import TypeVar

from .config import Settings
from .graph_store import GraphStore

T = TypeVar('T')


class SearchLoop:
    def __init__(self, settings: Settings) -> None:
        self.loop = asyncio.new_event_loop()
        # made here, used only on self.loop (its locks, connections and HTTP clients bind to that loop on first use)
        self.store = GraphStore(settings)
        self._thread = threading.Thread(target=self._run, name='memory-search-loop', daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coroutine: Awaitable[T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]

    def stop(self, timeout: float = 5) -> None:
        with contextlib.suppress(Exception):
            self.submit(self.store.close()).result(timeout=timeout)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=timeout)
        if not self.loop.is_running():
            self.loop.close()

"""`serve`: the HTTP API and the ingest worker in one long-lived process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from .config import Settings
from .http_api import start_http_server
from .service import MemoryService

logger = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10
PARENT_CHECK_SECONDS = 2.0


async def stop_when_orphaned(stop: asyncio.Event) -> None:
    # The memory process is OpenCode's child: if OpenCode dies (even by SIGKILL) this process must not
    # linger holding the port, or the next OpenCode's memory process cannot listen.
    parent = os.getppid()
    while not stop.is_set():
        await asyncio.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent:
            logger.warning('parent process %d is gone; shutting down', parent)
            stop.set()


async def serve(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    service = MemoryService(settings)
    try:
        http_server = start_http_server(service, loop)
    except OSError as error:
        logger.error('cannot listen on %s:%d: %s', settings.memory_host, settings.memory_port, error)
        await service.close()
        return 1
    logger.info(
        'memory manager listening on http://%s:%d (FalkorDB %s:%d, Valkey %s:%d, LLM client %s)',
        settings.memory_host, http_server.server_address[1], settings.falkordb_host, settings.falkordb_port,
        settings.valkey_host, settings.valkey_port, service.store.models.llm_client_kind,
    )
    worker = asyncio.create_task(service.worker.run(stop), name='ingest-worker')
    if os.environ.get('MEMORY_EXIT_WITH_PARENT', 'true').lower() not in ('0', 'false', 'no'):
        asyncio.create_task(stop_when_orphaned(stop), name='parent-watch')
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
    logger.info('shutting down; an episode being ingested stays queued and resumes on the next start')
    stop.set()
    http_server.shutdown()
    http_server.server_close()
    try:
        await asyncio.wait_for(asyncio.shield(worker), timeout=SHUTDOWN_GRACE_SECONDS)
    except (asyncio.TimeoutError, Exception):
        worker.cancel()
        with contextlib.suppress(BaseException):
            await worker
    await service.close()
    return 0

"""`serve`: the HTTP API and the ingest worker in one long-lived process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal

from . import api_token
from .config import Settings
from .http_api import start_http_server
from .metrics import GAUGE_INTERVAL_SECONDS
from .outage_report import OutageReport
from .service import MemoryService
from .tracing import traced

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


FALKORDB_CHECK_SECONDS = 30.0


async def watch_falkordb(service: MemoryService, stop: asyncio.Event) -> None:
    """Says once when FalkorDB cannot be reached (and once when it is back). Nothing else notices while no episode
    is queued, and the process must stay up, degraded, rather than exit and be restarted in a loop."""
    settings = service.settings
    report = OutageReport(logger, 'FalkorDB', f'{settings.falkordb_host}:{settings.falkordb_port}',
                          f'backing off to every {settings.retry_max_seconds:.0f}s; /health says degraded and '
                          'episodes wait in the queue until then')
    failures = 0
    while not stop.is_set():
        try:
            # Named like the health check so the trace filter drops it (one trace per check otherwise).
            with traced('memory.health'):
                await service.store.check_reachable()
            report.recovered()
            failures = 0
            delay = FALKORDB_CHECK_SECONDS
        except Exception as error:
            failures += 1
            delay = service.worker.backoff_seconds(failures)
            report.failed(error, delay)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)


async def report_gauges(service: MemoryService, stop: asyncio.Event) -> None:
    """Every GAUGE_INTERVAL_SECONDS, the queue's depth and the dead letters to DogStatsD; Valkey down skips a round."""
    while not stop.is_set():
        with contextlib.suppress(Exception):
            await service.report_gauges()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=GAUGE_INTERVAL_SECONDS)


async def serve(settings: Settings) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    token = api_token.server_token()
    service = MemoryService(settings)
    try:
        http_server = start_http_server(service, loop, token)
    except OSError as error:
        logger.error('cannot listen on %s:%d: %s', settings.memory_host, settings.memory_port, error)
        await service.close()
        return 1
    port = http_server.server_address[1]
    token_path = api_token.publish(token, port)
    logger.info(
        'memory manager listening on http://%s:%d, token file %s (FalkorDB %s:%d, Valkey %s:%d, LLM client %s)',
        settings.memory_host, port, token_path or 'none', settings.falkordb_host, settings.falkordb_port,
        settings.valkey_host, settings.valkey_port, service.store.models.llm_client_kind,
    )
    worker = asyncio.create_task(service.worker.run(stop), name='ingest-worker')
    watch = asyncio.create_task(watch_falkordb(service, stop), name='falkordb-watch')
    gauges = asyncio.create_task(report_gauges(service, stop), name='metrics-gauges')
    if os.environ.get('MEMORY_EXIT_WITH_PARENT', 'true').lower() not in ('0', 'false', 'no'):
        asyncio.create_task(stop_when_orphaned(stop), name='parent-watch')
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({worker, stopped}, return_when=asyncio.FIRST_COMPLETED)
    logger.info('shutting down; an episode being ingested stays queued and resumes on the next start')
    stop.set()
    http_server.shutdown()
    http_server.server_close()
    api_token.withdraw(token, port)
    try:
        await asyncio.wait_for(asyncio.shield(worker), timeout=SHUTDOWN_GRACE_SECONDS)
    except (asyncio.TimeoutError, Exception):
        worker.cancel()
        with contextlib.suppress(BaseException):
            await worker
    for task in (watch, gauges):
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
    await service.close()
    return 0

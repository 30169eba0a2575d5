"""The loopback HTTP API (stdlib server in a thread; the work runs on the service's asyncio loop, searches on the
search loop)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .api_token import AUTH_SCHEME, authorized, proof
from .episodes import BadRequest
from .failures import describe, is_outage
from .graph_store import NotFound
from .http_limits import BUSY_RESPONSE, MAX_JSON_DEPTH, UnauthorizedLog, json_depth_exceeds
from .portability import ImportRefused
from .service import MemoryService

logger = logging.getLogger(__name__)
NONCE = re.compile(r'[0-9a-f]{32,128}')


class HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class MemoryHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: MemoryService, loop: asyncio.AbstractEventLoop,
                 token: str) -> None:
        self.service = service
        self.loop = loop
        self.token = token
        self.connection_slots = threading.BoundedSemaphore(service.settings.max_connections)
        self.unauthorized_log = UnauthorizedLog(logger)
        super().__init__(address, MemoryRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Past the cap a caller is answered 503 on the accepting thread and closed: no thread, no wait.
        if not self.connection_slots.acquire(blocking=False):
            try:
                request.settimeout(1)
                request.sendall(BUSY_RESPONSE)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.connection_slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver prints a traceback to stderr for any error; a caller that gave up (a probe's timeout) is not
        # one, and anything else is one line.
        error = sys.exc_info()[1]
        if isinstance(error, (BrokenPipeError, ConnectionResetError, TimeoutError)):
            logger.debug('caller went away before the answer: %s', describe(error))
        else:
            logger.warning('request failed: %s', describe(error) if error else 'unknown error')


class MemoryRequestHandler(BaseHTTPRequestHandler):
    server: MemoryHttpServer
    server_version = 'opencode-memory/1'
    protocol_version = 'HTTP/1.1'

    def setup(self) -> None:
        # Every read (request line, headers, body) and write on this connection gives up after this long: a caller
        # that sends half a request and waits holds a thread for seconds, not for ever.
        self.timeout = self.server.service.settings.connection_timeout_seconds
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # one line per request is logged in handle_route instead

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        self.handle_route('GET')

    def do_POST(self) -> None:  # noqa: N802
        self.handle_route('POST')

    def handle_route(self, method: str) -> None:
        started = time.monotonic()
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        status, payload = 500, {'error': 'internal error'}
        if method == 'GET' and url.path == '/proof':
            # The one route without the token: it proves this process holds it, and reveals nothing else.
            nonce = query.get('nonce', '')
            if not NONCE.fullmatch(nonce):
                self.send_json(400, {'error': 'nonce must be 32 to 128 hex digits'})
            else:
                self.send_json(200, {'proof': proof(self.server.token, nonce)})
            return
        if not authorized(self.headers.get('Authorization'), self.server.token):
            # Every route, /health included, answers a caller without the token with 401 and nothing else: the
            # status alone tells a probe the process is up. The body is never read (so never parsed as a request).
            self.close_connection = True
            self.send_json(401, {'error': 'unauthorized'}, {'WWW-Authenticate': f'{AUTH_SCHEME} realm="opencode-memory"'})
            self.server.unauthorized_log.record()
            return
        try:
            status, payload = self.dispatch(method, url.path.rstrip('/') or '/', query)
        except HttpError as error:
            status, payload = error.status, {'error': str(error)}
        except (BadRequest, ImportRefused) as error:
            status, payload = error.status, {'error': str(error)}
        except NotFound as error:
            status, payload = 404, {'error': str(error)}
        except Exception as error:
            status = 503 if is_outage(error) else 500
            payload = {'error': describe(error)}
        self.send_json(status, payload)
        level = logging.DEBUG if url.path == '/health' and status == 200 else logging.INFO
        if status >= 400:
            level = logging.WARNING
        logger.log(
            level, '%s %s -> %d in %.0f ms%s', method, url.path, status, (time.monotonic() - started) * 1000,
            f' ({payload.get("error")})' if status >= 400 else '',
        )

    def dispatch(self, method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        service = self.server.service
        if method == 'GET' and path == '/health':
            return 200, self.run(service.health)
        if method == 'GET' and path == '/export':
            return 200, self.run(lambda: service.export(query))
        if method == 'POST':
            body = self.read_json()
            if path == '/episodes':
                return 202, self.run(lambda: service.enqueue_episode(body))
            if path == '/search':
                return 200, self.run(lambda: service.search(body), service.searches.loop)
            if path == '/forget':
                return 200, self.run(lambda: service.forget(body))
            if path == '/import':
                return 200, self.run(lambda: service.import_document(query, body))
        raise HttpError(404 if path not in ('/health', '/export', '/episodes', '/search', '/forget', '/import') else 405,
                        f'no route {method} {path}')

    def run(self, make_coroutine: Callable[[], Awaitable[dict[str, Any]]],
            loop: asyncio.AbstractEventLoop | None = None) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            return await make_coroutine()

        future = asyncio.run_coroutine_threadsafe(call(), loop or self.server.loop)
        timeout = self.server.service.settings.request_timeout_seconds
        try:
            return future.result(timeout=timeout)
        except TimeoutError as error:
            future.cancel()
            raise HttpError(504, f'no answer within {timeout:.0f}s') from error

    def read_json(self) -> Any:
        limit = self.server.service.settings.max_body_bytes
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError as error:
            self.close_connection = True
            raise HttpError(400, 'bad Content-Length') from error
        if length > limit:
            self.close_connection = True  # the unread body must not be parsed as the next request
            raise HttpError(413, f'body is {length} bytes; the limit is {limit} (MEMORY_MAX_BODY_BYTES)')
        raw = self.rfile.read(length) if length > 0 else b''
        try:
            text = raw.decode('utf-8')
        except UnicodeDecodeError as error:
            raise HttpError(400, f'body is not valid UTF-8 (byte {error.start})') from error
        if json_depth_exceeds(text):
            raise HttpError(400, f'body nests deeper than {MAX_JSON_DEPTH} levels')
        try:
            return json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as error:
            raise HttpError(400, f'body is not JSON: {error.msg} at {error.pos}') from error

    def send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode('utf-8')
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header('Content-Type', 'application/json; charset=utf-8')
        self.send_header('Content-Length', str(len(data)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(data)


def start_http_server(service: MemoryService, loop: asyncio.AbstractEventLoop, token: str) -> MemoryHttpServer:
    settings = service.settings
    server = MemoryHttpServer((settings.memory_host, settings.memory_port), service, loop, token)
    threading.Thread(target=server.serve_forever, name='memory-http', daemon=True).start()
    return server

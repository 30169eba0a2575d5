"""A local stand-in for Datadog's HTTP API (v1 events, service checks and monitors) that refuses what the real API would: each
request body is read back with datadog-api-client's own models, the schema the client validates against, and a body
the client would not parse (an unknown enum value, a missing required field) is answered 400. It can answer as the
real API does under trouble: 403 for a refused key, 429 with Retry-After. Named a double in every test that uses it."""
from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from datadog_api_client import Configuration
from datadog_api_client.model_utils import validate_and_convert_types
from datadog_api_client.v1.model.event_create_request import EventCreateRequest
from datadog_api_client.v1.model.monitor import Monitor
from datadog_api_client.v1.model.monitor_update_request import MonitorUpdateRequest
from datadog_api_client.v1.model.service_check import ServiceCheck

# path -> (the model type the real API takes there, what it answers on success)
ROUTES: dict[str, tuple[tuple[Any, ...], int, dict[str, Any]]] = {
    "/api/v1/events": ((EventCreateRequest,), 202, {"status": "ok", "event": {"id": 1}}),
    "/api/v1/check_run": (([ServiceCheck],), 202, {"status": "ok"}),
}


def _unparsed(value: Any) -> bool:
    """Whether the client's deserializer flagged anything in `value` as not matching its model."""
    if isinstance(value, list):
        return any(_unparsed(item) for item in value)
    if getattr(value, "_unparsed", False):
        return True
    data = getattr(value, "_data_store", None)
    return isinstance(data, dict) and any(_unparsed(item) for item in data.values())


@dataclass
class Received:
    path: str
    api_key: str | None
    body: Any


@dataclass
class DatadogApiDouble:
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    # responses to give before answering normally: (status, headers)
    scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    # monitors by id, as the API keeps them
    monitors: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "DatadogApiDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def parsed_body(self, text: str, model: tuple[Any, ...]) -> Any:
                """The body as the client's models read it; None (and a 400 sent) when they refuse it."""
                try:
                    body = json.loads(text)
                    parsed = validate_and_convert_types(body, model, ["body"], True, True, configuration=Configuration())
                except Exception as error:  # noqa: BLE001 (any refusal of the client's deserializer)
                    double.refused.append(f"{self.path}: {error}")
                    self.answer(400, {"errors": [str(error)]})
                    return None
                if _unparsed(parsed):
                    double.refused.append(f"{self.path}: {text}")
                    self.answer(400, {"errors": ["the body does not match the API's schema"]})
                    return None
                return body

            def do_GET(self) -> None:  # noqa: N802
                path, _, query = self.path.partition("?")
                if path != "/api/v1/monitor":
                    self.answer(404, {"errors": ["Not found"]})
                    return
                wanted = [tag for part in query.split("&") if part.startswith("monitor_tags=")
                          for tag in urllib.parse.unquote(part.split("=", 1)[1]).split(",")]
                double.received.append(Received(self.path, self.headers.get("DD-API-KEY"), None))
                found = [monitor for _, monitor in sorted(double.monitors.items())
                         if all(tag in monitor.get("tags", []) for tag in wanted)]
                self.answer(200, found)  # type: ignore[arg-type]

            def store_monitor(self, monitor_id: int, body: dict[str, Any]) -> None:
                monitor = {**double.monitors.get(monitor_id, {}), **body, "id": monitor_id}
                double.monitors[monitor_id] = monitor
                self.answer(200, monitor)

            def do_PUT(self) -> None:  # noqa: N802
                text = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                match = re.fullmatch(r"/api/v1/monitor/(\d+)", self.path)
                if not match or int(match.group(1)) not in double.monitors:
                    self.answer(404, {"errors": ["Monitor not found"]})
                    return
                body = self.parsed_body(text, (MonitorUpdateRequest,))
                if body is not None:
                    double.received.append(Received(self.path, self.headers.get("DD-API-KEY"), body))
                    self.store_monitor(int(match.group(1)), body)

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                text = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                if self.path == "/api/v1/monitor":
                    body = self.parsed_body(text, (Monitor,))
                    if body is not None:
                        double.received.append(Received(self.path, self.headers.get("DD-API-KEY"), body))
                        self.store_monitor(max(double.monitors, default=1000) + 1, body)
                    return
                route = ROUTES.get(self.path.split("?")[0])
                if route is None:
                    self.answer(404, {"errors": ["Not found"]})
                    return
                if double.scripted:
                    status, headers = double.scripted.pop(0)
                    double.received.append(Received(self.path, self.headers.get("DD-API-KEY"), json.loads(text)))
                    self.answer(status, {"errors": [f"scripted {status}"]}, headers)
                    return
                model, status, success = route
                body = self.parsed_body(text, model)
                if body is None:
                    return
                double.received.append(Received(self.path, self.headers.get("DD-API-KEY"), body))
                self.answer(status, success)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def bodies(self, path: str) -> Iterator[Any]:
        return (item.body for item in self.received if item.path == path)

"""Each backup's outcome where operators already look (issue 23): a Datadog event and a service check through the API
(datadog-api-client, when DD_API_KEY or DD_API_KEY_FILE is set; DD_SITE picks the site, DD_DD_URL a proxy or intake
URL), and DogStatsD metrics and a service check through the agent (when DD_AGENT_HOST or DD_DOGSTATSD_URL is set).
Neither set: nothing is sent. Never raises: a backup never fails because Datadog cannot be told. Each kind of failure to
tell it (a refused key, a rate limit, an unknown site, no agent) is one line on stderr, at most once an hour."""
from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .redaction import redact
from .secret_env import read_secret

CHECK = "opencode_server.backup"
METRIC_PREFIX = "opencode_server.backup."
COMPLAINT_INTERVAL_SECONDS = 3600
# a 429's Retry-After is honoured once, up to this long: a backup's report must not hold the sidecar for long
MAX_RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True)
class Outcome:
    succeeded: bool
    seconds: float
    timestamp: str | None = None
    files: int = 0
    bytes: int = 0
    reason: str = ""


def unified_tags(environ: dict[str, str]) -> list[str]:
    tags = [f"{tag}:{environ[variable]}" for tag, variable in (("env", "DD_ENV"), ("service", "DD_SERVICE"),
                                                                 ("version", "DD_VERSION")) if environ.get(variable)]
    return tags + [f"backup_target:{environ.get('BACKUP_TARGET') or 'b2'}"]


def _hostname(environ: dict[str, str]) -> str:
    return environ.get("DD_HOSTNAME") or socket.gethostname()


def _summary(outcome: Outcome) -> tuple[str, str]:
    if outcome.succeeded:
        return (f"Backup {outcome.timestamp} complete",
                f"{outcome.files} files, {outcome.bytes} bytes, in {outcome.seconds:.1f} s")
    return "Backup failed", f"{outcome.reason} (after {outcome.seconds:.1f} s)"


class _Complaints:
    """One line per kind of failure to report, at most once an hour, across runs (a stamp file per kind)."""

    def __init__(self, environ: dict[str, str], now: Callable[[], float]) -> None:
        folder = Path(environ.get("BACKUP_RUNTIME_DIR") or tempfile.gettempdir())
        self.path = folder / "datadog-complaints.json"
        self.now = now

    def say(self, kind: str, line: str) -> None:
        try:
            stamps = json.loads(self.path.read_text())
        except (OSError, ValueError):
            stamps = {}
        if self.now() - float(stamps.get(kind, 0)) < COMPLAINT_INTERVAL_SECONDS:
            return
        print(f"backup: datadog: {redact(line)}; the backup is not affected", file=sys.stderr, flush=True)
        stamps[kind] = self.now()
        try:
            self.path.write_text(json.dumps(stamps))
        except OSError:
            pass


def _send_api(outcome: Outcome, environ: dict[str, str], key: str, complaints: _Complaints,
              sleep: Callable[[float], None]) -> None:
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.exceptions import ApiException
    from datadog_api_client.v1.api.events_api import EventsApi
    from datadog_api_client.v1.api.service_checks_api import ServiceChecksApi
    from datadog_api_client.v1.model.event_alert_type import EventAlertType
    from datadog_api_client.v1.model.event_create_request import EventCreateRequest
    from datadog_api_client.v1.model.service_check import ServiceCheck
    from datadog_api_client.v1.model.service_check_status import ServiceCheckStatus
    from datadog_api_client.v1.model.service_checks import ServiceChecks

    configuration = Configuration(host=environ.get("DD_DD_URL") or None)
    configuration.api_key["apiKeyAuth"] = key
    if environ.get("DD_SITE"):
        configuration.server_variables["site"] = environ["DD_SITE"]
    title, text = _summary(outcome)
    tags = unified_tags(environ)
    event = EventCreateRequest(
        title=title, text=text, tags=tags, aggregation_key=CHECK, source_type_name="opencode-server",
        alert_type=EventAlertType.SUCCESS if outcome.succeeded else EventAlertType.ERROR,
    )
    check = ServiceChecks([ServiceCheck(
        check=CHECK, host_name=_hostname(environ), tags=tags, message=text,
        status=ServiceCheckStatus.OK if outcome.succeeded else ServiceCheckStatus.CRITICAL,
    )])
    with ApiClient(configuration) as client:
        for send in (lambda: EventsApi(client).create_event(event),
                     lambda: ServiceChecksApi(client).submit_service_check(check)):
            for attempt in (1, 2):
                try:
                    send()
                    break
                except ApiException as error:
                    if error.status == 429 and attempt == 1:
                        retry_after = (error.headers or {}).get("Retry-After", "1")
                        sleep(min(float(retry_after) if retry_after.replace(".", "", 1).isdigit() else 1.0,
                                  MAX_RETRY_AFTER_SECONDS))
                        continue
                    if error.status in (401, 403):
                        complaints.say("api-key", f"the Datadog API refused the key ({error.status}): check DD_API_KEY and DD_SITE")
                        return
                    complaints.say(f"api-{error.status}", f"the Datadog API answered {error.status} {error.reason or ''}".strip())
                    return


def _send_statsd(outcome: Outcome, environ: dict[str, str]) -> None:
    from ddtrace.vendor.dogstatsd import DogStatsd

    url = environ.get("DD_DOGSTATSD_URL", "")
    if url.startswith("udp://"):
        host, _, port = url[len("udp://"):].rpartition(":")
    else:
        host, port = environ.get("DD_AGENT_HOST", "localhost"), environ.get("DD_DOGSTATSD_PORT", "8125")
    statsd = DogStatsd(host=host, port=int(port), disable_telemetry=True)
    # the client also adds DD_ENV/DD_SERVICE/DD_VERSION of the process environment: exactly these, once
    statsd.constant_tags = unified_tags(environ)
    try:
        statsd.gauge(METRIC_PREFIX + "success", 1 if outcome.succeeded else 0)
        statsd.gauge(METRIC_PREFIX + "duration", outcome.seconds)
        if outcome.succeeded:
            statsd.gauge(METRIC_PREFIX + "bytes", outcome.bytes)
            statsd.gauge(METRIC_PREFIX + "files", outcome.files)
        statsd.service_check(CHECK, DogStatsd.OK if outcome.succeeded else DogStatsd.CRITICAL,
                             message=_summary(outcome)[1])
    finally:
        statsd.close_socket()


def report(outcome: Outcome, environ: dict[str, str] | None = None, now: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep) -> None:
    environ = dict(os.environ if environ is None else environ)
    complaints = _Complaints(environ, now)
    try:
        key = read_secret(environ, "DD_API_KEY")
    except Exception as error:  # a missing or unreadable key file: one line, the backup goes on
        complaints.say("api-key-file", str(error))
        key = None
    if key:
        try:
            _send_api(outcome, environ, key, complaints, sleep)
        except Exception as error:  # no route, unknown site, TLS: one line an hour
            complaints.say("api-unreachable", f"the Datadog API could not be reached: {type(error).__name__}: {error}")
    if environ.get("DD_AGENT_HOST") or environ.get("DD_DOGSTATSD_URL"):
        try:
            _send_statsd(outcome, environ)
        except Exception as error:
            complaints.say("dogstatsd", f"DogStatsD could not be sent: {type(error).__name__}: {error}")

"""Each backup reports its outcome to Datadog (issue 23): an event and a service check through the API client, checked
by a local DOUBLE of Datadog's API that reads every body back with datadog-api-client's own models (tests/doubles/
datadog_api_double.py), and DogStatsD metrics and a service check to a real UDP listener on loopback. A refused key,
a 429, an unreachable site or no agent never fails a backup and says so in one line, at most once an hour."""
from __future__ import annotations

import socket

import pytest
from backup_lib import backup_cli
from backup_lib.datadog_report import CHECK, Outcome, report

from tests.doubles.datadog_api_double import DatadogApiDouble

API_KEY = "0123456789abcdef0123456789abcdef"
EVENTS, CHECKS = "/api/v1/events", "/api/v1/check_run"
SUCCESS = Outcome(succeeded=True, seconds=12.5, timestamp="20261204T001500Z", files=7, bytes=4096)
FAILURE = Outcome(succeeded=False, seconds=3.0, reason="error: redis-cli --rdb failed: connection refused")


@pytest.fixture
def api():
    double = DatadogApiDouble().start()
    yield double
    double.stop()


@pytest.fixture
def statsd_listener():
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    yield listener
    listener.close()


def environ_for(api: DatadogApiDouble | None, tmp_path, **extra: str) -> dict[str, str]:
    environ = {"DD_ENV": "pod-test", "DD_SERVICE": "opencode-server", "DD_VERSION": "0.1.0", "DD_HOSTNAME": "opencode-memory",
               "BACKUP_RUNTIME_DIR": str(tmp_path), **extra}
    if api is not None:
        environ.update(DD_API_KEY=API_KEY, DD_DD_URL=api.url)
    return environ


def datagrams(listener: socket.socket) -> list[str]:
    received = []
    try:
        while True:
            received += listener.recv(65535).decode().split("\n")
            listener.settimeout(0.5)
    except socket.timeout:
        return [line for line in received if line]


def test_a_success_is_an_event_and_an_ok_service_check_the_api_double_accepts(api, tmp_path):
    report(SUCCESS, environ_for(api, tmp_path))
    assert api.refused == []
    [event] = api.bodies(EVENTS)
    assert event["alert_type"] == "success" and event["aggregation_key"] == CHECK
    assert "7 files, 4096 bytes" in event["text"] and "20261204T001500Z" in event["title"]
    assert {"env:pod-test", "service:opencode-server", "version:0.1.0", "backup_target:b2"} <= set(event["tags"])
    [[check]] = api.bodies(CHECKS)
    assert (check["check"], check["status"], check["host_name"]) == (CHECK, 0, "opencode-memory")
    assert {item.api_key for item in api.received} == {API_KEY}


def test_a_failure_is_an_error_event_and_a_critical_check_with_the_reason(api, tmp_path):
    report(FAILURE, environ_for(api, tmp_path))
    [event] = api.bodies(EVENTS)
    assert event["alert_type"] == "error" and "connection refused" in event["text"]
    [[check]] = api.bodies(CHECKS)
    assert check["status"] == 2 and "connection refused" in check["message"]


def test_the_double_refuses_what_the_api_would(api):
    """The double is not a sink: a body the client's models do not parse is answered 400."""
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(api.url + EVENTS, data=json.dumps({"title": "t", "text": "x", "alert_type": "bogus"}).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 400 and api.refused and api.received == []


def test_a_429_is_retried_once_after_its_retry_after_and_not_hammered(api, tmp_path):
    api.scripted = [(429, {"Retry-After": "2"})]
    slept: list[float] = []
    report(SUCCESS, environ_for(api, tmp_path), sleep=slept.append)
    assert slept == [2.0]
    assert [item.path for item in api.received] == [EVENTS, EVENTS, CHECKS]


def test_a_refused_key_is_one_line_an_hour_and_never_an_exception(api, tmp_path, capsys):
    clock = [1_000_000.0]
    for _ in range(3):
        api.scripted = [(403, {})]
        report(SUCCESS, environ_for(api, tmp_path), now=lambda: clock[0])
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["backup: datadog: the Datadog API refused the key (403): check DD_API_KEY and DD_SITE; "
                     "the backup is not affected"]
    assert API_KEY not in "".join(lines)
    clock[0] += 3601
    api.scripted = [(403, {})]
    report(SUCCESS, environ_for(api, tmp_path), now=lambda: clock[0])
    assert len(capsys.readouterr().err.splitlines()) == 1


def test_an_unreachable_site_is_one_line(tmp_path, capsys):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    report(SUCCESS, {**environ_for(None, tmp_path), "DD_API_KEY": API_KEY, "DD_DD_URL": f"http://127.0.0.1:{port}"})
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("backup: datadog: the Datadog API could not be reached: ")


def test_dogstatsd_gets_the_metrics_and_the_service_check_with_the_unified_tags(statsd_listener, tmp_path):
    port = statsd_listener.getsockname()[1]
    report(SUCCESS, environ_for(None, tmp_path, DD_AGENT_HOST="127.0.0.1", DD_DOGSTATSD_PORT=str(port)))
    lines = datagrams(statsd_listener)
    metrics = {line.split(":", 1)[0]: line for line in lines if not line.startswith("_sc")}
    assert set(metrics) == {f"opencode_server.backup.{name}" for name in ("success", "duration", "bytes", "files")}
    assert metrics["opencode_server.backup.success"].startswith("opencode_server.backup.success:1|g")
    assert "#env:pod-test,service:opencode-server,version:0.1.0,backup_target:b2" in metrics["opencode_server.backup.bytes"]
    [check] = [line for line in lines if line.startswith("_sc")]
    assert check.startswith(f"_sc|{CHECK}|0|")


def test_nothing_is_sent_when_neither_a_key_nor_an_agent_is_set(api, statsd_listener, tmp_path, capsys):
    report(FAILURE, environ_for(None, tmp_path))
    assert api.received == [] and datagrams(statsd_listener) == []
    assert capsys.readouterr().err == ""


def test_a_real_backup_reports_its_outcome_b2sdk_raw_simulator_and_datadog_api_double(backup_env, b2_simulator, api,
                                                                                       monkeypatch, tmp_path):
    for name, value in environ_for(api, tmp_path).items():
        monkeypatch.setenv(name, value)
    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 0
    [event] = api.bodies(EVENTS)
    assert event["alert_type"] == "success" and " files, " in event["text"]
    monkeypatch.setenv("VALKEY_PORT", "1")  # nothing listens there: the backup fails, and says so to Datadog too
    assert backup_cli.main(["--only", "valkey"], b2_api_factory=b2_simulator.factory) == 1
    failed = list(api.bodies(EVENTS))[-1]
    assert failed["alert_type"] == "error"
    assert API_KEY not in str(api.received[-1].body)

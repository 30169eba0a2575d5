"""Monitors as code (issue 23): scripts/datadog-monitors applies scripts/datadog-monitors.yaml through datadog-api-client
against a local DOUBLE of Datadog's API that reads every monitor back with the client's own models: it creates them
once, leaves them alone when nothing changed, updates only what differs, never makes one twice, and --dry-run
changes nothing."""
from __future__ import annotations

import pytest
import yaml

from tests.doubles.datadog_api_double import DatadogApiDouble
from tests.support.script_module import load_script
from tests.backup.conftest import SCRIPTS

monitors_tool = load_script(SCRIPTS / "datadog-monitors", "datadog_monitors")
DEFINITIONS = yaml.safe_load((SCRIPTS / "datadog-monitors.yaml").read_text())
KEYS = [definition["key"] for definition in DEFINITIONS]


@pytest.fixture
def api():
    double = DatadogApiDouble().start()
    yield double
    double.stop()


def environ(api: DatadogApiDouble) -> dict[str, str]:
    return {"DD_API_KEY": "a" * 32, "DD_APP_KEY": "b" * 40, "DD_DD_URL": api.url, "DD_SERVICE": "opencode-server"}


def run(api: DatadogApiDouble, capsys, *argv: str) -> list[str]:
    assert monitors_tool.main(list(argv), environ(api)) == 0
    return capsys.readouterr().out.splitlines()


def test_the_definitions_cover_what_operators_must_hear_about():
    assert KEYS == ["backup-missing", "backup-failed", "ingestion-lag", "dead-letters-growing", "recall-timeouts",
                    "health-check-failing"]
    missing = next(definition for definition in DEFINITIONS if definition["key"] == "backup-missing")
    assert missing["options"]["notify_no_data"] is True and missing["options"]["no_data_timeframe"] == 26 * 60


def test_first_run_creates_each_monitor_once_and_the_api_double_accepts_them(api, capsys):
    assert run(api, capsys) == [f"create {key}" for key in KEYS]
    assert api.refused == []
    assert len(api.monitors) == len(KEYS)
    for monitor in api.monitors.values():
        assert "managed-by:opencode-server" in monitor["tags"] and "service:opencode-server" in monitor["tags"]


def test_a_second_run_changes_nothing_and_makes_no_duplicate(api, capsys):
    run(api, capsys)
    posted = len([item for item in api.received if item.path == "/api/v1/monitor"])
    assert run(api, capsys) == [f"unchanged {key}" for key in KEYS]
    assert len([item for item in api.received if item.path == "/api/v1/monitor"]) == posted
    assert len(api.monitors) == len(KEYS)


def test_a_monitor_changed_by_hand_is_put_back_and_only_it(api, capsys):
    run(api, capsys)
    [(monitor_id, monitor)] = [(i, m) for i, m in api.monitors.items() if "opencode-server-monitor:backup-failed" in m["tags"]]
    monitor["query"] = '"opencode_server.backup".over("*").last(5).count_by_status()'
    lines = run(api, capsys)
    assert "update backup-failed (query)" in lines
    assert [line for line in lines if not line.startswith("unchanged")] == ["update backup-failed (query)"]
    assert api.monitors[monitor_id]["query"] == next(d for d in DEFINITIONS if d["key"] == "backup-failed")["query"]


def test_dry_run_prints_the_plan_and_changes_nothing(api, capsys):
    assert run(api, capsys, "--dry-run") == [f"would create {key}" for key in KEYS]
    assert api.monitors == {}
    assert [item.path.split("?")[0] for item in api.received] == ["/api/v1/monitor"]  # one list, no write


def test_without_keys_it_refuses_in_one_line_and_changes_nothing(api):
    with pytest.raises(SystemExit) as refused:
        monitors_tool.main([], {"DD_DD_URL": api.url})
    assert str(refused.value) == "datadog-monitors: set DD_API_KEY and DD_APP_KEY (or the _FILE form); nothing was changed"
    assert api.received == []


def test_a_refused_key_is_one_line_and_a_failed_exit(api, capsys):
    api.scripted = []
    original = api.monitors
    api.server.RequestHandlerClass.do_GET = lambda handler: handler.answer(403, {"errors": ["Forbidden"]})
    assert monitors_tool.main([], environ(api)) == 1
    assert capsys.readouterr().err.strip() == "datadog-monitors: the Datadog API answered 403 Forbidden"
    assert api.monitors is original and original == {}

"""A pytest plugin that reports a suite as named checks, one line each, the way the image's proof has always printed
them: `PASS name`, `FAIL name` (with its evidence indented below), `SKIP name (reason)`, then `N passed, M failed`.
A test names its check with `@pytest.mark.check('name')` (else its function name is used).

    .venv/bin/pytest -p tests.support.check_lines -p no:terminal tests/acceptance

Used by tools/harness/prove-image.sh. A fixture that fails the same way for many checks (a build that failed) is shown
once in full; the checks after it say which check's evidence they share.
"""

from __future__ import annotations

import sys

import pytest

EVIDENCE_LINES = 30


class CheckLines:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []
        self.evidence_shown: dict[str, str] = {}
        self.notes: list[str] = []

    @staticmethod
    def _print(line: str) -> None:
        sys.__stdout__.write(line + '\n')
        sys.__stdout__.flush()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        name = getattr(report, 'check_name', report.nodeid)
        if report.when == 'call' and report.passed:
            self.passed += 1
            self._print(f'PASS {name}')
        elif report.skipped and report.when in ('setup', 'call'):
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            self._print(f'SKIP {name} ({reason.removeprefix("Skipped: ")})')
        elif report.failed:
            self.failed.append(name)
            evidence = report.longreprtext.strip()
            first = self.evidence_shown.get(evidence)
            if first is not None:
                self._print(f'FAIL {name} (the same failure as {first})')
                return
            self.evidence_shown[evidence] = name
            self._print(f'FAIL {name}{"" if report.when == "call" else f" (in its {report.when})"}')
            for line in evidence.splitlines()[-EVIDENCE_LINES:]:
                self._print(f'     | {line}')

    def pytest_sessionfinish(self) -> None:
        for note in self.notes:
            self._print(note)
        if self.failed:
            self._print(f'failed checks: {" ".join(self.failed)}')
        self._print(f'{self.passed} passed, {len(self.failed)} failed')


def pytest_configure(config: pytest.Config) -> None:
    # Short tracebacks as evidence (the terminal reporter, which owns --tb, is off in a run reported this way).
    config.option.tbstyle = 'short'
    config.pluginmanager.register(CheckLines(), 'check_lines_reporter')


def note(config: pytest.Config, line: str) -> None:
    """A line printed before the summary (what --keep left behind), when the plugin reports the run."""
    reporter = config.pluginmanager.get_plugin('check_lines_reporter')
    if reporter is not None:
        reporter.notes.append(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    marker = item.get_closest_marker('check')
    outcome.get_result().check_name = marker.args[0] if marker else item.name

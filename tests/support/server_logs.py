"""pytest plugin (loaded by the root conftest.py): when a test fails, the log of every server and child process it
used (those tests/support/real_servers.py started during the test, and those still running, such as session-wide
ones) goes into the failure report, which CI prints, and a copy is kept under TEST_SERVER_LOGS_DIR (default
.work/failed-test-logs/), because the originals are deleted with pytest's temporary folders."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.support import real_servers

REPO = Path(__file__).resolve().parents[2]
DEFAULT_KEEP_DIR = REPO / '.work' / 'failed-test-logs'
# Enough for a redis-server's whole log; a long memory-manager log is cut to its end (the full copy is kept).
REPORT_TAIL_CHARS = 20_000

_first_started = pytest.StashKey[int]()


def kept_logs_dir() -> Path:
    return Path(os.environ.get('TEST_SERVER_LOGS_DIR') or DEFAULT_KEEP_DIR)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    item.stash[_first_started] = len(real_servers.STARTED)
    yield


def _processes_of(item: pytest.Item) -> list[real_servers.ManagedProcess]:
    first = item.stash.get(_first_started, len(real_servers.STARTED))
    return [
        process for index, process in enumerate(real_servers.STARTED)
        if index >= first or process.running()
    ]


def _keep(item: pytest.Item, number: int, process: real_servers.ManagedProcess) -> Path | None:
    if not process.log_path.exists():
        return None
    folder = kept_logs_dir() / re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f'{number}-{Path(process.command[0]).name}-{process.log_path.parent.name}.log'
    shutil.copyfile(process.log_path, kept)
    return kept


def _state(process: real_servers.ManagedProcess) -> str:
    """Running, or how it ended: a negative code is the signal that ended it (-11: a crash, SIGSEGV)."""
    if process.process is not None:
        code = process.process.poll()
        return 'running' if code is None else f'exited by itself with code {code}'
    return f'stopped, exit code {process.exit_code}'


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    for number, process in enumerate(_processes_of(item), start=1):
        text = process.log_text()
        kept = _keep(item, number, process)
        state = _state(process)
        title = (f'log of {Path(process.command[0]).name} ({state}; {process.log_path}'
                 f'{f", kept at {kept}" if kept else ""})')
        shown = text if len(text) <= REPORT_TAIL_CHARS else '[...]\n' + text[-REPORT_TAIL_CHARS:]
        report.sections.append((title, shown or '(empty)\n'))

"""The test counts docs/tests.md states are the ones pytest collects: a suite that grows or shrinks fails here until
the table says so (the counts are stated there once; other pages link to it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTS_DOC = REPO / 'docs' / 'tests.md'
ROW = re.compile(r'^\| `([\w/.-]+)` \| (\d+) \|', re.MULTILINE)


def stated_counts() -> dict[str, int]:
    return {suite: int(count) for suite, count in ROW.findall(TESTS_DOC.read_text())}


def collected(suite: str) -> int:
    result = subprocess.run([sys.executable, '-m', 'pytest', '--collect-only', '-q', '-p', 'no:cacheprovider', suite],
                            cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    match = re.search(r'^(\d+) tests? collected', result.stdout, re.MULTILINE)
    assert match, result.stdout[-2000:] + result.stderr[-2000:]
    return int(match.group(1))


def test_the_table_names_every_pytest_suite_the_ci_runs():
    test_all = (REPO / 'tools' / 'test-all.sh').read_text()
    run = set(re.search(r'^for dir in (.+); do$', test_all, re.MULTILINE).group(1).split()) | {'tests/pod'}
    # The image's acceptance checks run through the quick start's command, which test-all.sh runs as a suite.
    assert 'bash tools/harness/prove-image.sh' in test_all
    prove_image = (REPO / 'tools' / 'harness' / 'prove-image.sh').read_text()
    run |= set(re.findall(r'^\.venv/bin/pytest .* (tests/\w+)$', prove_image, re.MULTILINE))
    assert set(stated_counts()) == run


@pytest.mark.parametrize('suite', sorted(stated_counts()))
def test_the_stated_count_is_what_pytest_collects(suite):
    assert collected(suite) == stated_counts()[suite], f'docs/tests.md states another count for {suite}'

"""The reporter of the image's proof (tests/support/check_lines.py), run by pytest on a small suite as prove-image.sh
runs it: one line per check under its marked name, a failure's evidence indented below it and shown once when a
fixture fails many checks the same way, a skip with its reason, and the summary tools/test-all.sh counts."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support.podman import REPO

SUITE = '''
import pytest

@pytest.fixture(scope='module')
def broken():
    raise RuntimeError('the build failed: step 7 of 12')

@pytest.mark.check('a.passes')
def test_passes():
    assert 1 + 1 == 2

@pytest.mark.check('b.fails')
def test_fails():
    assert 'tini' == 'opencode', 'PID 1 is opencode'

@pytest.mark.check('c.skipped')
def test_skipped():
    pytest.skip('no extra CA certificates')

@pytest.mark.check('d.needs-the-build')
def test_needs_the_build(broken):
    pass

@pytest.mark.check('e.needs-the-build-too')
def test_needs_the_build_too(broken):
    pass

def test_unmarked():
    pass
'''


def test_one_line_per_check_evidence_once_and_the_summary(tmp_path):
    (tmp_path / 'test_suite.py').write_text(textwrap.dedent(SUITE))
    result = subprocess.run([sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-p', 'no:terminal',
                             '--capture=sys', '-p', 'tests.support.check_lines', '--rootdir', str(tmp_path),
                             str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    lines = result.stdout.splitlines()
    headlines = [line for line in lines if not line.startswith('     | ')]
    assert headlines == [
        'PASS a.passes',
        'FAIL b.fails',
        'SKIP c.skipped (no extra CA certificates)',
        'FAIL d.needs-the-build (in its setup)',
        'FAIL e.needs-the-build-too (the same failure as d.needs-the-build)',
        'PASS test_unmarked',
        'failed checks: b.fails d.needs-the-build e.needs-the-build-too',
        '2 passed, 3 failed',
    ], result.stdout + result.stderr
    evidence = '\n'.join(line for line in lines if line.startswith('     | '))
    assert 'PID 1 is opencode' in evidence
    assert evidence.count('RuntimeError: the build failed: step 7 of 12') == 1
    assert result.returncode == 1

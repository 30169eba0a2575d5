"""A failed test shows the logs of the real servers it used, and keeps a copy (tests/support/server_logs.py): a server
that went away mid-test is diagnosed from the CI output alone. Runs pytest on a small test with a real redis-server."""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

FAILING_TEST = '''
import signal
from tests.support.real_servers import valkey_stand_in

def test_server_dies_under_the_test(tmp_path):
    server = valkey_stand_in(tmp_path / "valkey").start()
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(timeout=10)
    assert server.client().ping()

def test_passes_with_a_server(tmp_path):
    server = valkey_stand_in(tmp_path / "valkey-ok").start()
    try:
        assert server.client().ping()
    finally:
        server.stop()
'''


def run_pytest_on(test_file: Path, kept: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, 'TEST_SERVER_LOGS_DIR': str(kept)}
    return subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '-p', 'tests.support.server_logs',
         '--rootdir', str(test_file.parent), str(test_file)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )


def test_a_failed_test_prints_and_keeps_the_log_of_its_redis_server(tmp_path):
    test_file = tmp_path / 'inner' / 'test_dies.py'
    test_file.parent.mkdir()
    test_file.write_text(FAILING_TEST)
    kept = tmp_path / 'kept'

    result = run_pytest_on(test_file, kept)

    assert result.returncode == 1, result.stdout + result.stderr
    assert '1 failed, 1 passed' in result.stdout
    failure = result.stdout[result.stdout.index('test_server_dies_under_the_test'):]
    assert 'log of redis-server (exited by itself with code -9' in failure
    assert 'Ready to accept connections' in failure
    [kept_log] = list(kept.rglob('*.log'))
    assert 'test_server_dies_under_the_test' in str(kept_log)
    assert 'Ready to accept connections' in kept_log.read_text()
    # only the failed test's server: the passing test keeps nothing and adds no section
    assert 'valkey-ok' not in result.stdout

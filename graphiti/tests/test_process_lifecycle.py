"""The memory process must not outlive OpenCode, its parent."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.real_servers import MEMORY_MANAGER, wait_until

FAKE_PARENT = 'import subprocess, sys, time; child = subprocess.Popen(sys.argv[1:]); print(child.pid, flush=True); time.sleep(600)'


def process_gone(pid: int) -> bool:
    try:
        state = Path(f'/proc/{pid}/status').read_text()
    except FileNotFoundError:
        return True
    return '\nState:\tZ' in state


def test_serve_exits_when_its_parent_is_killed(memory_env: dict[str, str]) -> None:
    parent = subprocess.Popen(
        [sys.executable, '-c', FAKE_PARENT, sys.executable, str(MEMORY_MANAGER), 'serve'],
        env=memory_env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    try:
        health_url = f'http://127.0.0.1:{memory_env["MEMORY_PORT"]}/health'
        request = urllib.request.Request(health_url, headers={'Authorization': f'Bearer {memory_env["MEMORY_API_TOKEN"]}'})
        wait_until(lambda: urllib.request.urlopen(request, timeout=5).status == 200, 30, 'the memory manager')
        parent.kill()
        parent.wait(timeout=10)
        wait_until(lambda: process_gone(child_pid), 30, 'the orphaned memory manager to exit')
    finally:
        with contextlib.suppress(ProcessLookupError):
            if not process_gone(child_pid):
                os.kill(child_pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)

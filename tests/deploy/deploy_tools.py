"""The checkers of tests/deploy, from their own venv (.venv-deploy, built by tools/setup.sh from
tests/deploy/requirements.lock): checkov pins many packages of its own, which must not move the test venv's."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / 'deploy'
VENV = REPO / '.venv-deploy'
TIMEOUT_SECONDS = 600


def run_tool(name: str, *arguments: str, input: str | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    executable = VENV / 'bin' / name
    assert executable.exists(), f'{executable} is missing: run tools/setup.sh (it builds .venv-deploy)'
    return subprocess.run([str(executable), *arguments], capture_output=True, text=True, input=input, cwd=cwd,
                          timeout=TIMEOUT_SECONDS, check=False)

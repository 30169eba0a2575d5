"""QEMU user emulation for a test session that runs images of another architecture, through
tools/harness/emulation.sh: set up on entry, and on exit exactly what it changed is undone (binfmt_misc mounted,
qemu-ARCH registered), so the machine is left as it was found. Nothing changes when the set-up is already there.

    with emulation('arm64') as changes: ...      changes: the words the script printed (empty: nothing changed)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / 'tools' / 'harness' / 'emulation.sh'


@contextmanager
def emulation(architecture: str) -> Iterator[list[str]]:
    enabled = subprocess.run(['bash', str(SCRIPT), 'enable', architecture], capture_output=True, text=True,
                             timeout=600, stdin=subprocess.DEVNULL)
    if enabled.returncode != 0:
        raise RuntimeError(f'emulation of {architecture} could not be set up:\n{enabled.stderr[-3000:]}')
    changes = enabled.stdout.split()
    try:
        yield changes
    finally:
        if changes:
            undone = subprocess.run(['bash', str(SCRIPT), 'undo', *changes], capture_output=True, text=True,
                                    timeout=120, stdin=subprocess.DEVNULL)
            if undone.returncode != 0:
                raise RuntimeError(f'emulation set-up not undone ({changes}):\n{undone.stderr[-3000:]}')

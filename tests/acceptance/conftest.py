"""The image's acceptance checks (the proposal's criteria a-g, issue 3): the committed Containerfile built with Podman
by the image suites' own fixture (tests/support/podman.py) and run three ways: with defaults, with a password, with no
network. `bash tools/harness/prove-image.sh` runs this suite and prints one line per check
(tests/support/check_lines.py).

Variables (set by prove-image.sh's options): OPENCODE_SERVER_EXTRA_CA_DIR and OPENCODE_SERVER_CONTAINERFILE (the
build), OPENCODE_SERVER_KEEP=1 (the containers are stopped and left, and named at the end, instead of removed).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.check_lines import note
from tests.support.podman import REPO, Podman, opencode_image, podman_session  # noqa: F401  (pytest fixtures)


@pytest.fixture(scope='session')
def build_context() -> Iterator[Path]:
    """The build context as the build makes it (tools/harness/lib/build-context.sh): the repository as git sees it."""
    with tempfile.TemporaryDirectory(prefix='opencode-server-context.') as directory:
        make = 'source "$1/tools/harness/lib/build-context.sh"; REPO_ROOT=$1 make_build_context "$2"'
        subprocess.run(['bash', '-c', make, 'context', str(REPO), directory], check=True, timeout=120)
        yield Path(directory)


@pytest.fixture(scope='module')
def proof_podman(request: pytest.FixtureRequest) -> Iterator[Podman]:
    """What a module of checks starts: removed afterwards, or stopped and named with OPENCODE_SERVER_KEEP=1."""
    session = Podman()
    try:
        yield session
    finally:
        if os.environ.get('OPENCODE_SERVER_KEEP') == '1' and session.containers:
            for container in session.containers:
                container.stop()
            names = ' '.join(container.name for container in session.containers)
            note(request.config, f'--keep: left (stopped): {names}; after the export below, remove them with: '
                                 f'podman rm -f -v {names}')
        else:
            session.cleanup()

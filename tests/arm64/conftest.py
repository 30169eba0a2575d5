"""The image for linux/arm64, built and run on this amd64 machine under QEMU user emulation (Debian's qemu-user-static):
emulation is set up for the session and put back as it was found at its end (tests/support/emulation.py), the image
is the committed Containerfile built by `tools/harness/build-image.sh --arch arm64` on a bookworm arm64 stand-in base
(or OPENCODE_SERVER_ARM64_IMAGE, built already). Slow (the build takes tens of minutes emulated): not in CI; the
command is in README, "Platforms".

OpenCode is the Containerfile's pin unless ARM64_OPENCODE_VERSION names another release: the npm registry this
machine reaches serves opencode-linux-arm64 only for some releases (1.18.14, 1.18.15, 1.18.18 on 2026-11-27, not the
pin), and the session stops at once, naming the releases it has, when the one asked for is not among them."""
from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.emulation import emulation
from tests.support.podman import build_image

ARM64_TAG = 'localhost/opencode-server:test-arm64'
REPO = Path(__file__).resolve().parents[2]


def pinned_opencode_version() -> str:
    containerfile = (REPO / 'containers' / 'opencode-server' / 'Containerfile').read_text()
    return re.search(r'^ARG OPENCODE_VERSION=(\S+)$', containerfile, re.M)[1]


@pytest.fixture(scope='session')
def arm64_opencode_version() -> str:
    """The OpenCode release built for arm64; its linux-arm64 package must be in the registry (checked before building)."""
    version = os.environ.get('ARM64_OPENCODE_VERSION') or pinned_opencode_version()
    if not os.environ.get('OPENCODE_SERVER_ARM64_IMAGE'):
        served = subprocess.run(['npm', 'view', 'opencode-linux-arm64', 'versions', '--json'], capture_output=True,
                                text=True, timeout=120, stdin=subprocess.DEVNULL)
        versions = json.loads(served.stdout) if served.returncode == 0 else []
        versions = [versions] if isinstance(versions, str) else versions
        if version not in versions:
            pytest.exit(f'the npm registry has no opencode-linux-arm64@{version} (it has: {", ".join(versions) or "none"});'
                        f' set ARM64_OPENCODE_VERSION to one of those', returncode=2)
    return version


@pytest.fixture(scope='session')
def arm64_emulation() -> Iterator[list[str]]:
    with emulation('arm64') as changes:
        yield changes


@pytest.fixture(scope='session')
def arm64_image(arm64_emulation: list[str], arm64_opencode_version: str) -> str:
    return build_image(ARM64_TAG, ('--arch', 'arm64', '--opencode-version', arm64_opencode_version),
                       override_variable='OPENCODE_SERVER_ARM64_IMAGE')

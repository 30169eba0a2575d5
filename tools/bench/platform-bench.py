"""The image on each platform, side by side: linux/amd64 natively and linux/arm64 under QEMU user emulation on this
machine. Prints figures (a table), asserts nothing:

    .venv/bin/python tools/bench/platform-bench.py [--platforms amd64,arm64] [--warm] [--opencode-version V]

per platform: the base (tools/harness/make-base.sh: seconds, or "kept" when it was built already), the image build
(tools/harness/build-image.sh --no-cache: every step anew, the base kept; --warm: with the layer cache), the image
size, and from one `podman run --network none`: seconds to the first 200 on /config, to a passing health check,
and from SIGTERM to exit (with the exit code). Emulation is set up for the arm64 part and put back as it was found.
Uses the harness's working folder (HARNESS_WORK_DIR); the images it tags are removed at the end (their layers stay
in the cache).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.support.emulation import emulation  # noqa: E402
from tests.support.podman import OPEN_ON_A_PRIVATE_NETWORK, Podman, podman  # noqa: E402

HOST_ARCH = subprocess.run(['dpkg', '--print-architecture'], capture_output=True, text=True).stdout.strip()
WAIT_LIMIT = 1800  # seconds; emulated start can take minutes


def run_script(*command: str) -> tuple[float, str]:
    start = time.monotonic()
    result = subprocess.run(['bash', *command], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=7200, env=dict(os.environ))
    if result.returncode != 0:
        raise SystemExit(f'{" ".join(command)} failed:\n{result.stderr[-4000:]}')
    return time.monotonic() - start, result.stderr


def poll(predicate, limit: float = WAIT_LIMIT, interval: float = 0.5) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if predicate():
            return time.monotonic() - start
        time.sleep(interval)
    return float('nan')


def since(start: float) -> str:
    return f'{time.monotonic() - start:.1f} s'


def measure(arch: str, warm: bool, opencode_version: str | None) -> dict[str, str]:
    figures: dict[str, str] = {}
    base_seconds, base_log = run_script(str(REPO / 'tools/harness/make-base.sh'), '--arch', arch)
    figures['base'] = f'{base_seconds:.0f} s' if 'building the local stand-in' in base_log else 'kept'
    tag = f'localhost/opencode-server-bench:{arch}'
    build_options = ['--arch', arch, '--tag', tag] + ([] if warm else ['--no-cache'])
    if opencode_version:
        build_options += ['--opencode-version', opencode_version]
    build_seconds, _ = run_script(str(REPO / 'tools/harness/build-image.sh'), *build_options)
    figures['build'] = f'{build_seconds:.0f} s' + (' (warm)' if warm else '')
    inspected = json.loads(podman('image', 'inspect', tag).stdout)[0]
    figures['platform'] = f"{inspected['Os']}/{inspected['Architecture']}"
    figures['size'] = f"{inspected['Size'] / 1e6:.0f} MB"
    session = Podman()
    try:
        started = time.monotonic()
        container = session.run(tag, *OPEN_ON_A_PRIVATE_NETWORK, '--network', 'none', role=f'bench-{arch}')
        answered = poll(lambda: container.http_status_inside('/config') == '200')
        figures['first 200 on /config'] = since(started) if not math.isnan(answered) else 'none'

        def healthy() -> bool:
            return podman('healthcheck', 'run', container.id, check=False, timeout=60).returncode == 0
        passed = poll(healthy, interval=1)
        figures['healthy'] = since(started) if not math.isnan(passed) else 'none'
        stop_start = time.monotonic()
        podman('kill', '--signal', 'TERM', container.id)
        code = podman('wait', container.id, timeout=600).stdout.strip().splitlines()[-1]
        figures['SIGTERM → exit'] = f'{since(stop_start)} ({code})'
    finally:
        session.cleanup()
        podman('rmi', '--no-prune', tag, check=False)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--platforms', default='amd64,arm64')
    parser.add_argument('--warm', action='store_true', help='build with the layer cache (default: --no-cache)')
    parser.add_argument('--opencode-version', help="OPENCODE_VERSION for every platform (default: the Containerfile's pin)")
    arguments = parser.parse_args()
    results = {}
    for arch in arguments.platforms.split(','):
        with emulation(arch) if arch != HOST_ARCH else nullcontext([]):
            results[arch] = measure(arch, arguments.warm, arguments.opencode_version)
        print(f'{arch}: {results[arch]}', file=sys.stderr, flush=True)
    load = os.getloadavg()
    print(f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}, {platform.node()}: {os.cpu_count()} cores, '
          f'{platform.machine()}, OpenCode {arguments.opencode_version or "as pinned"}, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} at the end')
    rows = ['platform', 'base', 'build', 'size', 'first 200 on /config', 'healthy', 'SIGTERM → exit']
    archs = list(results)
    print('| figure | ' + ' | '.join(f'linux/{arch}' + (' (emulated)' if arch != HOST_ARCH else '') for arch in archs) + ' |')
    print('|---|' + '---|' * len(archs))
    for row in rows:
        print(f'| {row} | ' + ' | '.join(results[arch].get(row, '') for arch in archs) + ' |')


if __name__ == '__main__':
    main()

"""What the acceptance checks ask of the running image: its HTTP answers, its processes, its plugin's log lines."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from tests.support.podman import REPO, Container, podman
from tests.support.real_servers import wait_until

CONTAINERFILE = REPO / 'containers' / 'opencode-server' / 'Containerfile'
# The image's opt-out of its password requirement: these containers publish their port on this machine's loopback only.
OPEN = ('-e', 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1')
PUBLISHED_ON_LOOPBACK = ('-p', '127.0.0.1::4096')
PLUGIN_DIR_URL = 'file:///root/.opencode/plugin/'
MEMORY_PROCESS_STARTED = '[graphiti-memory] started memory process'


def pinned_opencode_version() -> str:
    return re.search(r'^ARG OPENCODE_VERSION=(\S+)$', CONTAINERFILE.read_text(), re.MULTILINE).group(1)


def containerfile_under_proof() -> Path:
    chosen = os.environ.get('OPENCODE_SERVER_CONTAINERFILE')
    return CONTAINERFILE if not chosen else (Path(chosen) if os.path.isabs(chosen) else REPO / chosen)


def image_inspect(image: str) -> dict:
    """`podman image inspect`: the OCI config under 'Config', the Docker-format HEALTHCHECK under 'Healthcheck'."""
    return json.loads(podman('image', 'inspect', image).stdout)[0]


def image_config(image: str) -> dict:
    return image_inspect(image)['Config']


# Every process as "PID<TAB>argv joined by spaces" (the image has no ps).
LIST_PROCESSES = ('for p in /proc/[0-9]*; do [ -r "$p/cmdline" ] || continue; printf "%s\\t" "${p#/proc/}"; '
                  'tr "\\0" " " <"$p/cmdline"; echo; done')


def processes(container: Container) -> dict[int, list[str]]:
    listed = container.exec('sh', '-c', LIST_PROCESSES).stdout
    return {int(pid): argv.split() for pid, _, argv in (line.partition('\t') for line in listed.splitlines()) if argv}


def opencode_serve_pid(container: Container) -> int:
    """The pid of `opencode serve …` (argv[0] ends in opencode, argv[1] is serve: not ddtrace-run, not a shell)."""
    found = [pid for pid, argv in processes(container).items()
             if len(argv) > 1 and re.search(r'(^|/)opencode$', argv[0]) and argv[1] == 'serve']
    assert found, f'no `opencode serve` process: {processes(container)}'
    return found[0]


def plugin_started_memory_process(container: Container, timeout: float = 60) -> None:
    """Positive proof that the plugin's code ran: it logs that it started the memory manager (which may then exit
    for want of FalkorDB: not this check's business)."""
    try:
        container_logs_contain(container, MEMORY_PROCESS_STARTED, timeout)
    except AssertionError:
        plugin_lines = [line for line in container.logs().splitlines() if '[graphiti-memory]' in line][-5:]
        raise AssertionError(f'no {MEMORY_PROCESS_STARTED!r} in the log within {timeout}s; '
                             f'its [graphiti-memory] lines: {plugin_lines}') from None


def container_logs_contain(container: Container, text: str, timeout: float) -> None:
    wait_until(lambda: text in container.logs(), timeout, f'{text!r} in the log of {container.name}', interval=2)


PLUGIN_FAILURE = re.compile(r'failed to load plugin|error loading plugin|plugin.*(could not be loaded|failed to '
                            r'(load|import|install))|cannot find (module|package)', re.IGNORECASE)


def plugin_failures(container: Container) -> list[str]:
    """OpenCode logs `level=ERROR … message="failed to load plugin"` in its log file; stdout/stderr may carry more."""
    own_log = container.exec('sh', '-c', 'cat /root/.local/share/opencode/log/*.log 2>/dev/null', check=False).stdout
    return [line for line in (container.logs() + own_log).splitlines() if PLUGIN_FAILURE.search(line)]


def config_plugins(body: bytes) -> list[str]:
    return json.loads(body).get('plugin') or []

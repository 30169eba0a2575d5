"""The linux/arm64 image, running under QEMU user emulation: an arm64 image whose OpenCode is the release built (the
pin, or ARM64_OPENCODE_VERSION: see conftest.py) as an aarch64 glibc binary, the one opencode-ai's postinstall picks
for linux/arm64 (opencode-linux-arm64, not the musl build); its venv imports on aarch64; /config answers 200 offline
with the plugin loaded and the memory process started; the health check passes; SIGTERM stops it (tini forwards it).
Emulation is slow: waits are generous and nothing here is timed (tools/bench/platform-bench.py measures)."""
from __future__ import annotations

import base64
import json
import re
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.podman import Container, OPEN_ON_A_PRIVATE_NETWORK, Podman, podman

REPO = Path(__file__).resolve().parents[2]
PLUGIN_URL_PREFIX = 'file:///root/.opencode/plugin/'
EM_AARCH64 = 183
EM_X86_64 = 62
PT_INTERP = 3
# Emulated, OpenCode's first answer takes minutes where it takes seconds natively.
START_TIMEOUT = 900


def elf_machine_and_interpreter(head: bytes) -> tuple[int, str]:
    """e_machine and the PT_INTERP path of a 64-bit little-endian ELF file, from its first bytes."""
    assert head[:4] == b'\x7fELF' and head[4] == 2 and head[5] == 1, head[:16]
    machine = struct.unpack_from('<H', head, 18)[0]
    program_headers, entry_size, count = struct.unpack_from('<Q', head, 32)[0], *struct.unpack_from('<HH', head, 54)
    for index in range(count):
        kind, _flags, offset, _vaddr, _paddr, size = struct.unpack_from('<IIQQQQ', head, program_headers + index * entry_size)
        if kind == PT_INTERP:
            return machine, head[offset:offset + size].rstrip(b'\0').decode()
    return machine, ''


def test_elf_header_reader_on_this_hosts_own_python():
    machine, interpreter = elf_machine_and_interpreter(Path('/usr/bin/python3').resolve().read_bytes()[:65536])
    assert machine == EM_X86_64 and interpreter.startswith('/lib64/ld-linux-x86-64'), (machine, interpreter)


@pytest.fixture(scope='module')
def server(arm64_image: str) -> Iterator[Container]:
    session = Podman()
    try:
        container = session.run(arm64_image, *OPEN_ON_A_PRIVATE_NETWORK, '--network', 'none', role='arm64')
        container.wait_http_inside('/config', '200', timeout=START_TIMEOUT)
        yield container
    finally:
        session.cleanup()


def test_the_image_is_linux_arm64(arm64_image: str):
    config = json.loads(podman('image', 'inspect', arm64_image).stdout)[0]
    assert (config['Os'], config['Architecture']) == ('linux', 'arm64')


def test_opencode_is_the_release_built_as_an_aarch64_glibc_binary(server: Container, arm64_opencode_version: str):
    assert server.exec('uname', '-m').stdout.strip() == 'aarch64'
    assert server.exec('opencode', '--version', timeout=300).stdout.strip() == arm64_opencode_version
    binary = server.exec('sh', '-c', 'readlink -f "$(command -v opencode)"').stdout.strip()
    head = base64.b64decode(server.exec('sh', '-c', f'head -c 65536 {binary} | base64 -w0').stdout)
    machine, interpreter = elf_machine_and_interpreter(head)
    # opencode-linux-arm64 links against glibc's loader; opencode-linux-arm64-musl would name ld-musl-aarch64.
    assert (machine, interpreter) == (EM_AARCH64, '/lib/ld-linux-aarch64.so.1'), (binary, machine, interpreter)


def test_the_venv_imports_on_aarch64(server: Container):
    result = server.exec('/opt/venv/bin/python', '-c',
                         'import platform, graphiti_core, falkordb, redis, ddtrace, b2sdk, datadog_api_client, '
                         'pydantic_core, numpy; print(platform.machine())', timeout=600)
    assert result.stdout.strip() == 'aarch64', result.stderr


def test_config_answers_with_the_plugin_loaded_and_the_memory_process_started(server: Container):
    config = json.loads(server.exec('curl', '-sS', '-m', '60', '-f', 'http://localhost:4096/config', timeout=120).stdout)
    assert any(entry.startswith(PLUGIN_URL_PREFIX) for entry in config.get('plugin', [])), config.get('plugin')
    # The plugin starts the memory process on its first load; under emulation that can take a while after /config.
    for _ in range(START_TIMEOUT // 5):
        if '[graphiti-memory] started memory process' in server.logs():
            break
        time.sleep(5)
    logs = server.logs()
    assert '[graphiti-memory] started memory process' in logs, logs[-3000:]
    assert not re.search(r'failed to load plugin|cannot find (module|package)', logs, re.I), logs[-3000:]


def test_the_health_check_passes(server: Container):
    server.wait_healthy(timeout=START_TIMEOUT)


def test_sigterm_stops_it(server: Container):
    """Run last (it stops the module's container). Only SIGTERM is sent: were it ignored, nothing would stop it."""
    podman('kill', '--signal', 'TERM', server.id)
    exit_code = int(podman('wait', server.id, timeout=300).stdout.strip().splitlines()[-1])
    # tini exits with the signal's number + 128 when the server ends on it, or 0 when it shuts down cleanly.
    assert exit_code in (0, 143), (exit_code, server.logs()[-3000:])

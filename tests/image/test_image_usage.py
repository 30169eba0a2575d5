"""The lines tools/harness/prove-image.sh prints after a proof, run as printed from a plain shell (no harness variables
in its environment): they reach the harness's store, make the password a Podman secret and start the image, which then
answers /config on localhost:4096 with that password and refuses it without (issue 20: the quick start's image usable
by hand)."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from tests.support.podman import REPO, build_image, harness_work_dir, podman
from tests.support.real_servers import http_status, wait_until

USAGE_SCRIPT = REPO / 'tools' / 'harness' / 'lib' / 'image-usage.sh'
NAME = 'opencode'
SECRET = 'opencode-server-password'
URL = 'http://127.0.0.1:4096/config'


def printed_usage() -> tuple[str, list[str]]:
    result = subprocess.run(['bash', '-c', f'source {USAGE_SCRIPT} && echo "$KEPT_IMAGE" && print_image_usage "$1"',
                             'usage', str(harness_work_dir())], capture_output=True, text=True, timeout=30, check=True)
    kept, *lines = result.stdout.splitlines()
    return kept, [line[2:] for line in lines if line.startswith('  ')]


@pytest.fixture
def clean_names():
    def clean() -> None:
        podman('rm', '--force', '--volumes', NAME, check=False)
        podman('secret', 'rm', SECRET, check=False)
    clean()
    yield
    clean()


def test_the_printed_commands_run_the_proved_image_from_a_plain_shell(clean_names):
    kept, commands = printed_usage()
    podman('tag', build_image(), kept)
    assert [command.split()[0] for command in commands] == ['export', 'printf', 'podman'], commands
    password = secrets.token_urlsafe(24)
    plain_shell = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': os.environ.get('HOME', '/root'),
                   'OPENCODE_SERVER_PASSWORD': password}
    result = subprocess.run(['bash', '-euo', 'pipefail', '-c', '\n'.join(commands)], env=plain_shell,
                            capture_output=True, text=True, timeout=180, check=False)
    assert result.returncode == 0, result.stderr
    assert wait_until(lambda: http_status(URL, password, timeout=5) == 200, 120, f'200 from {URL} with the password')
    assert http_status(URL, timeout=5) == 401
    inspected = podman('inspect', '--format', '{{.ImageName}}', NAME).stdout.strip()
    assert inspected == kept

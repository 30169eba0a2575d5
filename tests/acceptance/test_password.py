"""With OPENCODE_SERVER_PASSWORD (passed by name: the value is never on a command line), every route needs Basic
auth, the health check still passes, and the password is nowhere in the image."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator

import pytest

from tests.acceptance.image_under_test import PUBLISHED_ON_LOOPBACK, image_config
from tests.support.podman import Container, podman
from tests.support.real_servers import http_status, wait_until

PASSWORD = secrets.token_urlsafe(24)
SECRET_NAMED = re.compile(r'^[A-Z0-9_]*(PASSWORD|SECRET|TOKEN|API_KEY|APP_KEY|APPLICATION_KEY|ACCESS_KEY)[A-Z0-9_]*=.+')


@pytest.fixture(scope='module')
def server(opencode_image, proof_podman) -> Container:
    return proof_podman.run(opencode_image, *PUBLISHED_ON_LOOPBACK, '-e', 'OPENCODE_SERVER_PASSWORD', role='password',
                            env={'OPENCODE_SERVER_PASSWORD': PASSWORD})


@pytest.fixture(scope='module')
def url(server) -> Iterator[str]:
    address = f'http://127.0.0.1:{server.port(4096)}'
    wait_until(lambda: http_status(f'{address}/config') == 401, 120, f'401 from {address}/config', interval=0.25)
    yield address


@pytest.mark.check('b.password-401-without-credentials')
def test_without_credentials_config_answers_401(url):
    assert http_status(f'{url}/config') == 401


@pytest.mark.check('b.password-401-wrong-password')
def test_with_a_wrong_password_config_answers_401(url):
    assert http_status(f'{url}/config', 'not-the-password') == 401


@pytest.mark.check('b.password-200-with-credentials')
def test_with_the_password_config_answers_200(url):
    """Polled: the first authenticated request starts OpenCode's instance, which can take a while."""
    wait_until(lambda: http_status(f'{url}/config', PASSWORD) == 200, 60, '200 with the password', interval=0.25)


@pytest.mark.check('b.password-healthcheck-passes')
def test_the_health_check_passes_with_a_password(server, url):
    server.wait_healthy(90)


@pytest.mark.check('g.runtime-secret-not-in-image')
def test_the_run_time_password_is_not_in_the_image_and_no_env_looks_secret(opencode_image, server):
    config_and_history = podman('image', 'inspect', opencode_image).stdout + \
        podman('history', '--no-trunc', opencode_image).stdout
    assert PASSWORD not in config_and_history
    baked = [entry.split('=', 1)[0] for entry in image_config(opencode_image)['Env'] if SECRET_NAMED.match(entry)]
    assert not baked, f'secret-named ENV in the image: {baked}'
    assert PASSWORD not in json.dumps(server.inspect()['Config'].get('Cmd') or [])

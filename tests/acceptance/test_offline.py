"""With no network at all the plugin still loads and starts the memory process (its dependencies are baked in: OpenCode
would npm-install them on the first request otherwise), and no credential file is left in the image."""

from __future__ import annotations

import pytest

from tests.acceptance.image_under_test import (OPEN, PLUGIN_DIR_URL, config_plugins, plugin_failures,
                                       plugin_started_memory_process)
from tests.support.podman import Container, podman


@pytest.fixture(scope='module')
def server(opencode_image, proof_podman) -> Container:
    return proof_podman.run(opencode_image, *OPEN, '--network', 'none', role='offline')


@pytest.mark.check('e.offline-config-200')
def test_offline_config_answers_200(server):
    server.wait_http_inside('/config', '200', 120)


@pytest.mark.check('e.offline-plugin-listed')
def test_offline_config_lists_the_plugin(server):
    body = server.exec('curl', '-s', '-m', '5', 'http://localhost:4096/config').stdout
    plugins = config_plugins(body.encode())
    assert any(plugin.startswith(PLUGIN_DIR_URL) for plugin in plugins), plugins


@pytest.mark.check('e.offline-plugin-started-memory-process')
def test_offline_the_plugin_started_the_memory_process(server):
    plugin_started_memory_process(server)


@pytest.mark.check('e.offline-no-plugin-load-failure')
def test_offline_no_plugin_failed_to_load(server):
    assert not plugin_failures(server)


CREDENTIAL_FILES = r'''
find / -xdev \( -path /proc -o -path /sys \) -prune -o -type f \( -name .netrc -o -name _netrc -o -name rclone.conf \
  -o -name .git-credentials -o -name .pypirc -o -name .boto -o -name .s3cfg -o -name "*.b2_account_info" \
  -o -name .b2_account_info -o -path "*/.aws/credentials" -o -path "*/.docker/config.json" \) -print
for f in $(find / -xdev \( -path /proc -o -path /sys \) -prune -o -type f -name .npmrc -print); do
  grep -qE "_authToken|_auth *=|_password" "$f" && echo "$f (npm credentials)"
done
for f in /root/.config/pip/pip.conf /etc/pip.conf; do
  [ -f "$f" ] && grep -qE "://[^/@]+:[^/@]+@" "$f" && echo "$f (index URL with credentials)"
done
true
'''


@pytest.mark.check('g.no-credential-files')
def test_no_credential_file_is_in_the_image(opencode_image):
    found = podman('run', '--rm', '--network', 'none', '--no-healthcheck', '--entrypoint', 'sh', opencode_image,
                   '-c', CREDENTIAL_FILES, timeout=300).stdout.split('\n')
    assert not [line for line in found if line.strip()]

"""The image run with its defaults (and the opt-out of the password, its port on this machine's loopback only): closed
without a password, health check, process tree, contents, the plugin, and a clean stop. The stop comes last: it ends
the container the other checks share."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.acceptance.image_under_test import (OPEN, PLUGIN_DIR_URL, PUBLISHED_ON_LOOPBACK, config_plugins,
                                               image_config, image_inspect, opencode_serve_pid, pinned_opencode_version,
                                               plugin_failures, plugin_started_memory_process)
from tests.acceptance.ignore_file import ignored_by_context
from tests.support.podman import REPO, Container, podman
from tests.support.real_servers import http_status, wait_until

ENTRYPOINT = ['tini', '-g', '--', '/app/scripts/check-secrets', '/app/scripts/check-state-dirs', 'ddtrace-run',
              'opencode', 'serve', '--hostname', '0.0.0.0', '--port', '4096']
# Where the image puts each part of the build context.
COPIED = {'plugin': '/root/.opencode/plugin', 'graphiti': '/root/.opencode/graphiti', 'scripts': '/app/scripts'}


@pytest.fixture(scope='module')
def server(opencode_image, proof_podman) -> Container:
    return proof_podman.run(opencode_image, *OPEN, *PUBLISHED_ON_LOOPBACK, role='default')


@pytest.fixture(scope='module')
def url(server) -> str:
    return f'http://127.0.0.1:{server.port(4096)}'


@pytest.mark.check('b.no-password-refuses-to-start')
def test_without_a_password_it_refuses_to_start_in_one_line(opencode_image, podman_session):
    """Closed by default: on its 0.0.0.0 bind with no password it exits 78 with one line naming the variable and the
    opt-out (scripts/check-secrets)."""
    container = podman_session.run(opencode_image, '--network', 'none', role='no-password')
    code = podman('wait', container.id, timeout=120).stdout.strip().splitlines()[-1]
    lines = [line for line in container.logs().splitlines() if line.strip()]
    assert (code, len(lines)) == ('78', 1), (code, lines)
    assert 'OPENCODE_SERVER_PASSWORD_FILE' in lines[0] and 'OPENCODE_SERVER_ALLOW_NO_PASSWORD=1' in lines[0]


@pytest.mark.check('b.config-200-from-outside')
def test_config_answers_200_on_the_published_port(url):
    wait_until(lambda: http_status(f'{url}/config') == 200, 120, f'200 from {url}/config', interval=0.25)


@pytest.mark.check('a.healthcheck-30s-10s-40s-on-config')
def test_the_health_check_probes_config_every_30s_with_10s_timeout_and_40s_start(opencode_image, server):
    check = image_inspect(opencode_image)['Healthcheck']
    timings = (check['Interval'], check['Timeout'], check['StartPeriod'])
    assert timings == (30_000_000_000, 10_000_000_000, 40_000_000_000), check
    if any('/config' in part for part in check['Test']):
        return
    script = check['Test'][1]
    assert 'localhost:4096/config' in server.exec('cat', script).stdout, f'{check["Test"]} does not probe /config'


@pytest.mark.check('a.healthcheck-run-passes')
def test_the_health_check_passes(server):
    server.wait_healthy(90)


@pytest.mark.check('c.entrypoint')
def test_the_entrypoint_is_tini_then_the_checks_then_ddtrace_run_opencode(opencode_image):
    assert image_config(opencode_image)['Entrypoint'] == ENTRYPOINT


@pytest.mark.check('c.pid1-is-tini')
def test_pid_1_is_tini_killing_the_whole_group(server):
    pid1 = server.exec('sh', '-c', 'tr "\\0" " " </proc/1/cmdline').stdout
    assert re.match(r'(\S*/)?tini -g ', pid1), pid1


@pytest.mark.check('c.opencode-serve-0.0.0.0-4096')
def test_opencode_serves_on_all_addresses_port_4096(server):
    pid = opencode_serve_pid(server)
    argv = server.exec('sh', '-c', f"tr '\\0' ' ' </proc/{pid}/cmdline").stdout
    assert re.search(r'(^|/)opencode serve --hostname 0\.0\.0\.0 --port 4096 ?$', argv), argv


@pytest.mark.check('c.ddtrace-bootstrap-on-pythonpath')
def test_ddtrace_bootstrap_is_on_opencodes_pythonpath_for_its_python_children(server):
    pid = opencode_serve_pid(server)
    environ = server.exec('sh', '-c', f"tr '\\0' '\\n' </proc/{pid}/environ").stdout.splitlines()
    pythonpath = next((line.split('=', 1)[1] for line in environ if line.startswith('PYTHONPATH=')), '')
    assert 'ddtrace/bootstrap' in pythonpath, f'PYTHONPATH of pid {pid}: {pythonpath or "<unset>"}'


@pytest.mark.check('d.venv-imports')
def test_the_venv_imports_the_memory_tracing_and_backup_packages(server):
    packages = 'graphiti_core, falkordb, redis, ddtrace, datadog_api_client, b2sdk'
    server.exec('/opt/venv/bin/python', '-c', f'import {packages}')


@pytest.mark.check('d.tools-present')
def test_the_tools_are_there_and_opencode_is_the_pinned_release(server):
    missing = server.exec('sh', '-c', 'for tool in rclone redis-cli cron git curl tini opencode; do '
                                      'command -v "$tool" >/dev/null || echo "$tool"; done').stdout.split()
    assert not missing
    version = server.exec('opencode', '--version').stdout.strip().splitlines()[-1]
    assert version == pinned_opencode_version()


@pytest.mark.check('d.copied-paths')
def test_every_file_of_the_context_is_in_the_image_byte_for_byte(server, build_context: Path):
    expected = []
    for source, target in COPIED.items():
        for path in sorted((build_context / source).rglob('*')):
            relative = path.relative_to(build_context).as_posix()
            if path.is_file() and not ignored_by_context(build_context, relative):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                expected.append(f'{digest}  {target}/{relative.split("/", 1)[1]}')
    config = hashlib.sha256((build_context / 'config.json').read_bytes()).hexdigest()
    expected.append(f'{config}  /root/.config/opencode/opencode.json')
    result = podman('exec', '-i', server.id, 'sha256sum', '-c', '--quiet', '-', input='\n'.join(expected) + '\n',
                    check=False)
    assert len(expected) > 20 and result.returncode == 0, (len(expected), result.stdout + result.stderr)


@pytest.mark.check('d.env-defaults')
def test_the_environment_defaults_and_the_exposed_port(opencode_image):
    config = image_config(opencode_image)
    env = config['Env']
    for wanted in ('FALKORDB_HOST=localhost', 'FALKORDB_PORT=6379', 'VALKEY_HOST=localhost', 'VALKEY_PORT=6380',
                   'OPENCODE_DISABLE_LSP_DOWNLOAD=1', 'OPENCODE_DISABLE_MODELS_FETCH=1'):
        assert wanted in env, env
    for name in ('DD_SERVICE', 'DD_VERSION'):
        assert len([entry for entry in env if entry.startswith(f'{name}=') and len(entry) > len(name) + 1]) == 1, env
    assert '4096/tcp' in config['ExposedPorts']


@pytest.mark.check('d.acceptance-criteria-of-the-dagger-check')
def test_the_dagger_checks_acceptance_script_passes_here(server):
    """The same script the module's `acceptance-criteria` check runs in the Dagger-built image
    (dagger/src/acceptance-checks.ts), run in the Podman-built one: one list of criteria for both routes."""
    script = subprocess.run(['npx', '--no-install', 'tsx', 'tools/print-acceptance-script.ts'], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=True).stdout
    report = podman('exec', '-i', server.id, 'sh', input=script, check=False, timeout=300)
    failures = [line for line in report.stdout.splitlines() if line.startswith('FAIL')]
    assert report.returncode == 0 and not failures and 'PASS' in report.stdout, failures or report.stderr[-2000:]


@pytest.mark.check('e.plugin-listed')
def test_config_lists_the_baked_in_plugin(url):
    def plugins() -> list[str]:
        with urllib.request.urlopen(f'{url}/config', timeout=5) as response:
            return config_plugins(response.read())

    listed = wait_until(plugins, 60, f'plugins in {url}/config')
    assert any(plugin.startswith(PLUGIN_DIR_URL) for plugin in listed), listed


@pytest.mark.check('e.plugin-started-memory-process')
def test_the_plugin_ran_and_started_the_memory_process(server):
    plugin_started_memory_process(server)


@pytest.mark.check('e.no-plugin-load-failure')
def test_no_plugin_failed_to_load(server):
    assert not plugin_failures(server)


@pytest.mark.check('f.sigterm-stop-not-killed')
def test_sigterm_stops_it_cleanly_before_the_kill(server):
    """tini forwards SIGTERM: `stop -t 10` ends it with 143 (or 0), not with the SIGKILL (137) that a PID 1 ignoring
    SIGTERM gets after 10 s. How long the stop takes is a benchmark figure (docs/benchmarks/image.md), not a check."""
    server.stop(10)
    code = json.loads(podman('inspect', server.id).stdout)[0]['State']['ExitCode']
    assert code in (0, 143), f'exit code {code} after stop -t 10'

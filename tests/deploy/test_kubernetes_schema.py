"""Every manifest in deploy/ is valid against the Kubernetes API schemas of 1.36 and 1.37 (kubernetes-validate, pinned,
strict: an unknown field is an error), as are the pod with the optional Datadog container added and the Secrets that
deploy/opencode-memory-secret.py prints. A document with a wrong field is shown to be rejected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.deploy_tools import DEPLOY, run_tool

VERSIONS = ('1.36.0', '1.37.0')
MANIFESTS = sorted(path for path in DEPLOY.glob('*.yaml') if path.name != 'datadog-agent-container.yaml')


def validate(paths: list[Path], version: str) -> None:
    result = run_tool('kubernetes-validate', '--strict', '--kubernetes-version', version, *map(str, paths))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'WARN' not in result.stdout + result.stderr, result.stdout + result.stderr


def test_the_manifests_are_the_ones_expected():
    assert [path.name for path in MANIFESTS] == [
        'opencode-memory-networkpolicy.yaml', 'opencode-memory-pod.yaml', 'opencode-memory-volumes.yaml']


@pytest.mark.parametrize('version', VERSIONS)
def test_every_manifest_is_valid(version):
    validate(MANIFESTS, version)


@pytest.mark.parametrize('version', VERSIONS)
def test_the_pod_with_the_datadog_agent_and_the_secrets_are_valid(version, tmp_path):
    (pod,) = yaml.safe_load_all((DEPLOY / 'opencode-memory-pod.yaml').read_text())
    pod['spec']['containers'].append(yaml.safe_load((DEPLOY / 'datadog-agent-container.yaml').read_text()))
    (tmp_path / 'pod-with-agent.yaml').write_text(yaml.safe_dump(pod))
    environ = {'PATH': os.environ['PATH'], 'OPENCODE_SERVER_PASSWORD': 'not-a-real-password', 'OPENAI_API_KEY': 'sk-x',
               'B2_APPLICATION_KEY_ID': 'id', 'B2_APPLICATION_KEY': 'key', 'BACKUP_ENCRYPTION_KEY': 'AGE-SECRET-KEY-1X',
               'DD_API_KEY': 'dd'}
    printed = subprocess.run([sys.executable, str(DEPLOY / 'opencode-memory-secret.py')], env=environ,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    (tmp_path / 'secrets.yaml').write_text(yaml.safe_dump_all(json.loads(printed)['items']))
    validate([tmp_path / 'pod-with-agent.yaml', tmp_path / 'secrets.yaml'], version)


@pytest.mark.parametrize('field, value, expected', [
    ('runAsUser', '10001', "runAsUser: '10001' is not of type 'integer'"),  # a string, not an integer
    ('readOnlyRootFileSystem', True, 'readOnlyRootFileSystem'),  # misspelt: strict mode refuses unknown fields
])
def test_a_wrong_field_is_rejected(field, value, expected, tmp_path):
    (pod,) = yaml.safe_load_all((DEPLOY / 'opencode-memory-pod.yaml').read_text())
    pod['spec']['containers'][0]['securityContext'][field] = value
    (tmp_path / 'pod.yaml').write_text(yaml.safe_dump(pod))
    result = run_tool('kubernetes-validate', '--strict', '--kubernetes-version', VERSIONS[-1], str(tmp_path / 'pod.yaml'))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and expected in output, output

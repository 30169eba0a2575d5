"""Every manifest the chart renders, for each value set (tests/deploy/chart.py), and the committed deploy/ files and
the Secret deploy/opencode-memory-secret.py prints, are valid against the Kubernetes API schemas of 1.36 and 1.37
(kubernetes-validate, pinned, strict: an unknown field is an error). A document with a wrong field is rejected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import VALUE_SETS, render, template
from tests.deploy.deploy_tools import DEPLOY, run_tool

VERSIONS = ('1.36.0', '1.37.0')
COMMITTED = sorted(path for path in DEPLOY.glob('*.yaml') if path.name != 'podman-values.yaml')


def validate(paths: list[Path], version: str) -> None:
    result = run_tool('kubernetes-validate', '--strict', '--kubernetes-version', version, *map(str, paths))
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'WARN' not in result.stdout + result.stderr, result.stdout + result.stderr


def test_the_committed_manifests_are_the_ones_expected():
    assert [path.name for path in COMMITTED] == ['opencode-memory-volumes.yaml', 'opencode-memory.yaml']


@pytest.mark.parametrize('version', VERSIONS)
def test_the_committed_manifests_are_valid(version):
    validate(COMMITTED, version)


@pytest.mark.parametrize('version', VERSIONS)
@pytest.mark.parametrize('value_set', VALUE_SETS)
def test_the_chart_renders_valid_manifests(value_set, version, tmp_path):
    rendered = template(value_set)
    assert rendered.returncode == 0, rendered.stderr
    (tmp_path / 'rendered.yaml').write_text(rendered.stdout)
    validate([tmp_path / 'rendered.yaml'], version)


@pytest.mark.parametrize('version', VERSIONS)
def test_the_secret_the_deploy_tool_prints_is_valid(version, tmp_path):
    environ = {'PATH': os.environ['PATH'], 'OPENCODE_SERVER_PASSWORD': 'not-a-real-password', 'OPENAI_API_KEY': 'sk-x',
               'B2_APPLICATION_KEY_ID': 'id', 'B2_APPLICATION_KEY': 'key', 'BACKUP_ENCRYPTION_KEY': 'AGE-SECRET-KEY-1X',
               'DD_API_KEY': 'dd'}
    printed = subprocess.run([sys.executable, str(DEPLOY / 'opencode-memory-secret.py')], env=environ,
                             capture_output=True, text=True, timeout=60, check=True).stdout
    (tmp_path / 'secret.yaml').write_text(yaml.safe_dump(json.loads(printed)))
    validate([tmp_path / 'secret.yaml'], version)


@pytest.mark.parametrize('field, value, expected', [
    ('runAsUser', '10001', "runAsUser: '10001' is not of type 'integer'"),  # a string, not an integer
    ('readOnlyRootFileSystem', True, 'readOnlyRootFileSystem'),  # misspelt: strict mode refuses unknown fields
])
def test_a_wrong_field_is_rejected(field, value, expected, tmp_path):
    documents = render('defaults')
    (deployment,) = [document for document in documents if document['kind'] == 'Deployment']
    deployment['spec']['template']['spec']['containers'][0]['securityContext'][field] = value
    (tmp_path / 'deployment.yaml').write_text(yaml.safe_dump(deployment))
    result = run_tool('kubernetes-validate', '--strict', '--kubernetes-version', VERSIONS[-1],
                      str(tmp_path / 'deployment.yaml'))
    output = result.stdout + result.stderr
    assert result.returncode != 0 and expected in output, output

"""The Helm chart (charts/opencode-server) as the tests render it: the pinned helm that tools/setup.sh builds, the
value sets under tests/deploy/values plus the defaults and deploy/podman-values.yaml."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.deploy_tools import DEPLOY, REPO

HELM = REPO / '.tools' / 'bin' / 'helm'
CHART = REPO / 'charts' / 'opencode-server'
VALUES_DIR = Path(__file__).resolve().parent / 'values'
# name -> values file (None: the chart's defaults)
VALUE_SETS: dict[str, Path | None] = {
    'defaults': None,
    'podman': DEPLOY / 'podman-values.yaml',
    **{path.stem: path for path in sorted(VALUES_DIR.glob('*.yaml'))},
}


def helm(*arguments: str) -> subprocess.CompletedProcess[str]:
    assert HELM.exists(), f'{HELM} is missing: run tools/setup.sh (it builds helm)'
    return subprocess.run([str(HELM), *arguments], capture_output=True, text=True, timeout=120, check=False)


def value_arguments(value_set: str, *sets: str) -> list[str]:
    path = VALUE_SETS[value_set]
    return [*(['--values', str(path)] if path else []), *[item for value in sets for item in ('--set', value)]]


def template(value_set: str = 'defaults', *sets: str) -> subprocess.CompletedProcess[str]:
    return helm('template', 'opencode-memory', str(CHART), '--namespace', 'opencode', *value_arguments(value_set, *sets))


def render(value_set: str = 'defaults', *sets: str) -> list[dict[str, Any]]:
    result = template(value_set, *sets)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def of_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [document for document in documents if document['kind'] == kind]


def deployment(documents: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = of_kind(documents, 'Deployment')
    return found


def as_pod(deployment_document: dict[str, Any]) -> dict[str, Any]:
    """The pod a Deployment makes, as a Pod document (what the restricted rules read)."""
    template_ = deployment_document['spec']['template']
    return {'kind': 'Pod', 'metadata': {'name': deployment_document['metadata']['name'], **template_['metadata']},
            'spec': template_['spec']}


def container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in pod_spec['containers'] if item['name'] == name)

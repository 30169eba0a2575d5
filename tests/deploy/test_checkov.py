"""checkov (pinned, tests/deploy/requirements.lock) finds nothing on deploy/ and on the Containerfile: every check
passes or is skipped inline with its reason (annotations `checkov.io/skipN` in the pod, `# checkov:skip=` lines in the
Containerfile rendered from dagger/src/image-spec.ts). The main branch before issue 17 failed 19 checks on deploy/ and
2 on the Containerfile. `--skip-download`: checkov otherwise fetches guidelines from its vendor's API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_tools import DEPLOY, REPO, run_tool

CONTAINERFILE = REPO / 'containers' / 'opencode-server' / 'Containerfile'
EXPECTED_POD_SKIPS = {'CKV_K8S_8', 'CKV_K8S_9', 'CKV_K8S_11', 'CKV_K8S_14', 'CKV_K8S_15', 'CKV_K8S_21', 'CKV_K8S_43'}
EXPECTED_CONTAINERFILE_SKIPS = {'CKV_DOCKER_3', 'CKV_DOCKER_7'}


def checkov(*arguments: str) -> list[dict[str, Any]]:
    result = run_tool('checkov', '--skip-download', '--output', 'json', *arguments)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def findings(reports: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    return [(check['check_id'], check['resource']) for report in reports for check in report['results'][kind]]


def test_deploy_has_no_failed_check_and_only_the_reasoned_skips():
    reports = checkov('--directory', str(DEPLOY), '--framework', 'kubernetes')
    assert findings(reports, 'failed_checks') == []
    assert {check for check, _ in findings(reports, 'skipped_checks')} == EXPECTED_POD_SKIPS
    assert sum(report['summary']['passed'] for report in reports) > 50


def test_the_pod_with_the_datadog_agent_has_no_failed_check(tmp_path):
    (pod,) = yaml.safe_load_all((DEPLOY / 'opencode-memory-pod.yaml').read_text())
    agent = yaml.safe_load((DEPLOY / 'datadog-agent-container.yaml').read_text())
    pod['spec']['containers'].append(agent)
    (tmp_path / 'pod.yaml').write_text(yaml.safe_dump(pod))
    shutil.copy(DEPLOY / 'opencode-memory-networkpolicy.yaml', tmp_path)
    failed = findings(checkov('--directory', str(tmp_path), '--framework', 'kubernetes'), 'failed_checks')
    # The agent's image runs as dd-agent (uid 100) and writes its root at start: both stated in its YAML.
    assert sorted(failed) == [('CKV_K8S_22', 'Pod.default.opencode-memory'), ('CKV_K8S_40', 'Pod.default.opencode-memory')]


def test_the_containerfile_has_no_failed_check_and_only_the_reasoned_skips(tmp_path):
    # checkov recognises Dockerfiles by name
    shutil.copy(CONTAINERFILE, tmp_path / 'Dockerfile')
    reports = checkov('--file', str(tmp_path / 'Dockerfile'), '--framework', 'dockerfile')
    assert findings(reports, 'failed_checks') == []
    assert {check for check, _ in findings(reports, 'skipped_checks')} == EXPECTED_CONTAINERFILE_SKIPS


@pytest.mark.parametrize('line', ['checkov.io/skip5:', '# checkov:skip=CKV_DOCKER_3'])
def test_checkov_fails_without_the_skips(line, tmp_path):
    """The skips are what keeps the findings away: removed, checkov reports them (so the checks run)."""
    if line.startswith('#'):
        text = ''.join(row for row in CONTAINERFILE.read_text().splitlines(keepends=True) if not row.startswith(line))
        (tmp_path / 'Dockerfile').write_text(text)
        reports = checkov('--file', str(tmp_path / 'Dockerfile'), '--framework', 'dockerfile')
        expected = 'CKV_DOCKER_3'
    else:
        text = ''.join(row for row in (DEPLOY / 'opencode-memory-pod.yaml').read_text().splitlines(keepends=True)
                       if line not in row)
        (tmp_path / 'pod.yaml').write_text(text)
        shutil.copy(DEPLOY / 'opencode-memory-networkpolicy.yaml', tmp_path)
        reports = checkov('--directory', str(tmp_path), '--framework', 'kubernetes')
        expected = 'CKV_K8S_11'
    assert [check for check, _ in findings(reports, 'failed_checks')] == [expected]

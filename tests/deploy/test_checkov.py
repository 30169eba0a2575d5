"""checkov (pinned, tests/deploy/requirements.lock) finds nothing on the chart's rendering with every part on, on
deploy/ and on the Containerfile: every check passes or is skipped inline with its reason (the pod template's
`checkov.io/skipN` annotations, the Containerfile's `# checkov:skip=` lines rendered from dagger/src/image-spec.ts).
The main branch before issue 17 failed 19 checks on deploy/ and 2 on the Containerfile. `--skip-download`: checkov
otherwise fetches guidelines from its vendor's API."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from tests.deploy.chart import template
from tests.deploy.deploy_tools import DEPLOY, REPO, run_tool

CONTAINERFILE = REPO / 'containers' / 'opencode-server' / 'Containerfile'
EXPECTED_POD_SKIPS = {'CKV_K8S_8', 'CKV_K8S_9', 'CKV_K8S_11', 'CKV_K8S_14', 'CKV_K8S_15', 'CKV_K8S_43'}
EXPECTED_CONTAINERFILE_SKIPS = {'CKV_DOCKER_3', 'CKV_DOCKER_7'}


def checkov(*arguments: str) -> list[dict[str, Any]]:
    result = run_tool('checkov', '--skip-download', '--output', 'json', *arguments)
    assert result.returncode in (0, 1), result.stderr[-3000:]
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def findings(reports: list[dict[str, Any]], kind: str) -> list[tuple[str, str]]:
    return [(check['check_id'], check['resource']) for report in reports for check in report['results'][kind]]


def rendered_dir(tmp_path, value_set: str, *sets: str, drop_line: str | None = None):
    rendered = template(value_set, *sets)
    assert rendered.returncode == 0, rendered.stderr
    text = rendered.stdout
    if drop_line:
        text = ''.join(row for row in text.splitlines(keepends=True) if drop_line not in row)
    (tmp_path / 'rendered.yaml').write_text(text)
    return tmp_path


# deploy/ is what Podman plays, and Podman has no NetworkPolicy; the chart makes one by default (checked below). A
# graph check (CKV2) cannot be skipped inline.
PODMAN_ONLY_SKIPS = ('--skip-check', 'CKV2_K8S_6')


def test_deploy_has_no_failed_check_and_only_the_reasoned_skips():
    reports = checkov('--directory', str(DEPLOY), '--framework', 'kubernetes', *PODMAN_ONLY_SKIPS)
    assert findings(reports, 'failed_checks') == []
    assert {check for check, _ in findings(reports, 'skipped_checks')} == EXPECTED_POD_SKIPS
    assert sum(report['summary']['passed'] for report in reports) > 50


def test_the_chart_with_every_part_on_fails_only_the_datadog_agents_two(tmp_path):
    reports = checkov('--directory', str(rendered_dir(tmp_path, 'everything-on')), '--framework', 'kubernetes')
    failed = findings(reports, 'failed_checks')
    # The agent's image runs as dd-agent (uid 100, CKV_K8S_40 wants > 10000) and writes its root at start (CKV_K8S_22):
    # both stated in the chart.
    assert sorted(check for check, _ in failed) == ['CKV_K8S_22', 'CKV_K8S_40'], failed


def test_the_chart_without_the_agent_has_no_failed_check(tmp_path):
    reports = checkov('--directory', str(rendered_dir(tmp_path, 'everything-on', 'datadog.agent.enabled=false')),
                      '--framework', 'kubernetes')
    assert findings(reports, 'failed_checks') == []


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
        reports = checkov('--directory', str(rendered_dir(tmp_path, 'podman', drop_line=line)), '--framework',
                          'kubernetes', *PODMAN_ONLY_SKIPS)
        expected = 'CKV_K8S_11'
    assert [check for check, _ in findings(reports, 'failed_checks')] == [expected]

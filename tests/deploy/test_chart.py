"""The Helm chart (charts/opencode-server): `helm lint` for every value set, each value that teams change shown to
change the rendering, wrong values refused by values.schema.json or the chart with a message naming the value, and
deploy/ shown to be the chart's rendering (tools/render_deploy.py). Helm is the pinned v4.3.2 tools/setup.sh builds."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from tests.deploy.chart import CHART, VALUE_SETS, container, deployment, helm, of_kind, render, template
from tests.deploy.deploy_tools import REPO


def env_of(spec: dict, name: str) -> dict[str, str]:
    return {item['name']: item.get('value') for item in spec.get('env', [])}


def holds(check, subject) -> bool:
    """The check on the rendering; a field or container that is not there fails it."""
    try:
        return bool(check(subject))
    except (KeyError, IndexError, StopIteration):
        return False


def pod_spec_of(value_set: str = 'defaults', *sets: str) -> dict:
    return deployment(render(value_set, *sets))['spec']['template']['spec']


@pytest.mark.parametrize('value_set', VALUE_SETS)
def test_helm_lint_passes(value_set):
    path = VALUE_SETS[value_set]
    result = helm('lint', '--strict', str(CHART), *(['--values', str(path)] if path else []))
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_defaults_render_one_replica_recreated_with_its_claims_service_secret_and_policy():
    documents = render()
    assert sorted(document['kind'] for document in documents) == [
        'Deployment', 'NetworkPolicy', *['PersistentVolumeClaim'] * 6, 'Secret', 'Service']
    made = deployment(documents)
    assert made['spec']['replicas'] == 1 and made['spec']['strategy'] == {'type': 'Recreate'}
    assert [item['name'] for item in made['spec']['template']['spec']['containers']] == [
        'opencode-server', 'falkordb', 'valkey']
    (service,) = of_kind(documents, 'Service')
    assert service['spec']['ports'][0]['port'] == 4096
    assert service['spec']['selector'].items() <= made['spec']['template']['metadata']['labels'].items()


def test_the_chart_made_secret_holds_random_passwords_only():
    (secret,) = of_kind(render(), 'Secret')
    assert sorted(secret['data']) == ['falkordb-password', 'opencode-server-password', 'valkey-password']
    passwords = [base64.b64decode(value).decode() for value in secret['data'].values()]
    assert all(len(password) == 40 and password.isalnum() for password in passwords)
    assert len(set(passwords)) == 3
    assert secret['metadata']['annotations']['helm.sh/resource-policy'] == 'keep'


@pytest.mark.parametrize('sets, check', [
    (['image.tag=9.9.9'], lambda s: container(s, 'opencode-server')['image'] == 'localhost/opencode-server:9.9.9'),
    (['image.digest=sha256:' + 'a' * 64],
     lambda s: container(s, 'opencode-server')['image'].endswith('@sha256:' + 'a' * 64)),
    (['falkordb.image.tag=v9'], lambda s: ':v9@sha256:' in container(s, 'falkordb')['image']),
    (['server.resources.limits.memory=8Gi'], lambda s: container(s, 'opencode-server')['resources']['limits']['memory'] == '8Gi'),
    (['uids.server=20001'], lambda s: container(s, 'opencode-server')['securityContext']['runAsUser'] == 20001),
    (['secrets.existingSecret=team', 'secrets.openaiApiKey=true'],
     lambda s: env_of(container(s, 'opencode-server'), '')['OPENAI_API_KEY_FILE'] == '/run/secrets/openai-api-key'),
    (['secrets.existingSecret=team', 'backup.enabled=true', 'backup.schedule=5 4 * * 0'],
     lambda s: env_of(container(s, 'opencode-backup'), '')['BACKUP_SCHEDULE'] == '5 4 * * 0'),
    (['secrets.existingSecret=team', 'datadog.agent.enabled=true'],
     lambda s: 'datadog-agent' in [item['name'] for item in s['containers']]),
    (['datadog.env=staging'], lambda s: env_of(container(s, 'opencode-server'), '')['DD_ENV'] == 'staging'),
    (['secrets.existingSecret=team', 'falkordb.enabled=false', 'falkordb.external.host=graph.db'],
     lambda s: env_of(container(s, 'opencode-server'), '')['FALKORDB_HOST'] == 'graph.db'
     and 'falkordb' not in [item['name'] for item in s['containers']]),
    (['server.livenessInitialDelaySeconds=90'],
     lambda s: container(s, 'opencode-server')['livenessProbe']['initialDelaySeconds'] == 90),
])
def test_each_value_changes_the_pod(sets, check):
    assert not holds(check, pod_spec_of('defaults')), 'the check holds on the defaults: it would not catch the value'
    assert holds(check, pod_spec_of('defaults', *sets))


@pytest.mark.parametrize('sets, kind, check', [
    (['persistence.sizes.falkordb-data=50Gi'], 'PersistentVolumeClaim',
     lambda docs: any(d['spec']['resources']['requests']['storage'] == '50Gi' for d in docs)),
    (['persistence.storageClass=fast'], 'PersistentVolumeClaim',
     lambda docs: all(d['spec'].get('storageClassName') == 'fast' for d in docs)),
    (['service.type=LoadBalancer'], 'Service', lambda docs: docs[0]['spec']['type'] == 'LoadBalancer'),
    (['ingress.enabled=true', 'ingress.host=oc.example.com'], 'Ingress',
     lambda docs: docs[0]['spec']['rules'][0]['host'] == 'oc.example.com'),
    (['networkPolicy.enabled=false'], 'NetworkPolicy', lambda docs: docs == []),
    (['secrets.existingSecret=team'], 'Secret', lambda docs: docs == []),
    (['persistence.createClaims=false'], 'PersistentVolumeClaim', lambda docs: docs == []),
])
def test_each_value_changes_its_object(sets, kind, check):
    assert not holds(check, of_kind(render('defaults'), kind))
    assert holds(check, of_kind(render('defaults', *sets), kind))


@pytest.mark.parametrize('sets, named', [
    (['image.tag='], 'image.tag'),
    (['persistence.sizes.opencode-data=lots'], 'opencode-data'),
    (['backup.schedule=every night'], 'backup.schedule'),
    (['backup.schedule=17 3 * *'], 'backup.schedule'),
    (['secrets.existingSecret=Not_A_Name'], 'secrets.existingSecret'),
    (['image.digest=sha256:short'], 'image.digest'),
    (['falkordb.external.port=70000'], 'falkordb.external.port'),
    (['replicas=2'], 'replicas'),   # not a value of this chart: one writer of SQLite
    (['falkordb.enabled=false'], 'falkordb.external.host'),
    (['ingress.enabled=true'], 'ingress.host'),
    (['backup.enabled=true'], 'backup.enabled'),
    (['secrets.openaiApiKey=true'], 'secrets.openaiApiKey'),
])
def test_a_wrong_value_is_refused_naming_it(sets, named):
    result = template('defaults', *sets)
    assert result.returncode != 0, result.stdout[:500]
    # the schema names it as a JSON pointer (/image/tag), the chart's own refusals by its dotted name
    assert named in result.stderr or "'/" + named.replace('.', '/') + "'" in result.stderr, result.stderr


def test_deploy_is_the_charts_rendering():
    result = subprocess.run([sys.executable, str(REPO / 'tools' / 'render_deploy.py'), '--check'], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_the_render_check_fails_on_a_hand_edit(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO / 'tools'))
    import render_deploy

    target = tmp_path / 'opencode-memory.yaml'
    (source, template_name), *_ = render_deploy.RENDERED.items()
    target.write_text(source.read_text().replace('runAsUser: 10001', 'runAsUser: 0'))
    monkeypatch.setattr(render_deploy, 'RENDERED', {target: template_name})
    assert render_deploy.main(['--check']) == 1


HELM_DOCS = REPO / '.tools' / 'bin' / 'helm-docs'
HELM_DOCS_ARGUMENTS = ('--chart-search-root', 'charts', '--sort-values-order', 'file', '--skip-version-footer')


def test_the_chart_readme_is_generated_from_the_values_comments():
    """helm-docs' convention: the values table comes from the `# --` comments, every value has one."""
    assert HELM_DOCS.exists(), f'{HELM_DOCS} is missing: run tools/setup.sh'
    result = subprocess.run([str(HELM_DOCS), *HELM_DOCS_ARGUMENTS, '--dry-run'], cwd=REPO, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    committed = (CHART / 'README.md').read_text()
    assert result.stdout.strip() == committed.strip(), 'charts/opencode-server/README.md is stale: run helm-docs'
    rows = [line for line in committed.splitlines() if line.startswith('| ') and not line.startswith('| Key')]
    assert len(rows) > 40
    assert [row for row in rows if row.rstrip().endswith('|  |')] == []

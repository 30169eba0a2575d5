"""The memory pod as the chart renders it, for every value set (with the optional Datadog agent in `everything-on`),
and as deploy/ ships it, passes Kubernetes' "restricted" Pod Security Standard and this project's rules: read-only
roots, secrets as files only, FalkorDB and Valkey on 127.0.0.1, and a NetworkPolicy that admits TCP 4096 and nothing
else. The checker is shown to catch each rule on a pod that breaks it (the pod as it was before issue 17)."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.chart import VALUE_SETS, as_pod, deployment, of_kind, render
from tests.support.script_module import load_script
from tests.deploy.restricted_profile import (ingress_ports, loopback_only_violations, project_violations,
                                             restricted_violations)

DEPLOY = Path(__file__).resolve().parents[2] / 'deploy'


def shipped_pod(with_datadog: bool = True) -> dict[str, Any]:
    """The pod of the chart with every part on (or without the agent)."""
    return as_pod(deployment(render('everything-on', *([] if with_datadog else ['datadog.agent.enabled=false']))))


def committed_pod() -> dict[str, Any]:
    (document,) = [item for item in yaml.safe_load_all((DEPLOY / 'opencode-memory.yaml').read_text()) if item]
    return as_pod(document)


def test_every_container_of_the_pod_with_every_part_on_passes_restricted():
    pod = shipped_pod()
    assert [container['name'] for container in pod['spec']['containers']] == [
        'opencode-server', 'falkordb', 'valkey', 'opencode-backup', 'datadog-agent']
    assert restricted_violations(pod) == []


@pytest.mark.parametrize('value_set', VALUE_SETS)
def test_every_value_set_keeps_restricted_and_the_projects_rules(value_set):
    pod = as_pod(deployment(render(value_set)))
    assert restricted_violations(pod) == []
    assert project_violations(pod) == []
    assert loopback_only_violations(pod) == []


def test_the_committed_pod_keeps_restricted_and_the_projects_rules():
    pod = committed_pod()
    assert restricted_violations(pod) == [] and project_violations(pod) == [] and loopback_only_violations(pod) == []


def test_no_two_containers_share_a_uid_except_the_server_and_its_backup_sidecar():
    """The sidecar reads OpenCode's database as the server writes it: same uid. FalkorDB and Valkey each have their own,
    so neither can read the other's data nor the server's."""
    uids = {container['name']: container['securityContext']['runAsUser'] for container in shipped_pod()['spec']['containers']}
    assert uids['opencode-server'] == uids['opencode-backup']
    others = [uid for name, uid in uids.items() if name not in ('opencode-server', 'opencode-backup')]
    assert len(set(others)) == len(others) and uids['opencode-server'] not in others, uids


def secret_tool():
    return load_script(DEPLOY / 'opencode-memory-secret.py', 'opencode_memory_secret')


def keys_read(container: dict[str, Any]) -> set[str]:
    return set(re.findall(r'/run/secrets/([a-z0-9-]+)', json.dumps([container.get('env', []), container.get('args', [])])))


def test_each_container_mounts_exactly_the_keys_it_reads_and_the_deploy_tool_agrees():
    """Kubernetes: `items` of the one Secret. The server's mount holds no backup or Datadog key."""
    tool = secret_tool()
    pod = shipped_pod()
    items_of_volume = {volume['name']: [item['key'] for item in volume['secret']['items']]
                       for volume in pod['spec']['volumes'] if 'secret' in volume}
    assert {volume['secret']['secretName'] for volume in pod['spec']['volumes'] if 'secret' in volume} == {'team-opencode'}
    for container in pod['spec']['containers']:
        (volume,) = [mount['name'] for mount in container['volumeMounts'] if mount['name'] in items_of_volume]
        assert set(items_of_volume[volume]) == keys_read(container) == set(tool.KEYS_OF_CONTAINER[container['name']])
    assert not {'backup-encryption-key', 'b2-application-key', 'datadog-api-key'} & set(tool.KEYS_OF_CONTAINER['opencode-server'])


def test_on_podman_each_container_mounts_a_secret_of_its_own_that_the_deploy_tool_makes():
    """Podman 4.3 ignores `items`: a Secret per container, `<secret>-<container>`, holding just its keys."""
    tool = secret_tool()
    pod = committed_pod()
    secret_of_volume = {volume['name']: volume['secret']['secretName'] for volume in pod['spec']['volumes']
                        if 'secret' in volume}
    made = {document['metadata']['name']: document['data'] for document in tool.podman_secrets(
        {'OPENCODE_SERVER_PASSWORD': 'x' * 20, 'OPENAI_API_KEY': 'k', 'B2_APPLICATION_KEY_ID': 'i',
         'B2_APPLICATION_KEY': 'k', 'BACKUP_ENCRYPTION_KEY': 'AGE-SECRET-KEY-1X', 'DD_API_KEY': 'd'})}
    for container in pod['spec']['containers']:
        (volume,) = [mount['name'] for mount in container['volumeMounts'] if mount['name'] in secret_of_volume]
        assert set(made[secret_of_volume[volume]]) == keys_read(container), container['name']


def test_probes_carry_no_secret():
    for container in shipped_pod()['spec']['containers']:
        for probe in ('livenessProbe', 'readinessProbe'):
            command = ' '.join(container.get(probe, {}).get('exec', {}).get('command', []))
            assert 'AUTH' not in command and '/run/secrets' not in command, (container['name'], command)


def test_the_network_policy_admits_only_tcp_4096_into_the_pod():
    documents = render('defaults')
    (policy,) = of_kind(documents, 'NetworkPolicy')
    pod = as_pod(deployment(documents))
    assert policy['kind'] == 'NetworkPolicy'
    labels = pod['metadata']['labels']
    assert policy['spec']['podSelector']['matchLabels'].items() <= labels.items()
    assert 'Ingress' in policy['spec']['policyTypes'] and 'Egress' in policy['spec']['policyTypes']
    assert ingress_ports(policy) == [('TCP', 4096)]
    (served,) = [port['containerPort'] for container in pod['spec']['containers'] for port in container.get('ports', [])]
    assert served == 4096


def old_pod() -> dict[str, Any]:
    """The pod as main shipped it before issue 17: no securityContext, secrets as env, servers on the pod IP."""
    return {'metadata': {'name': 'old'}, 'spec': {'containers': [
        {'name': 'opencode-server', 'env': [{'name': 'OPENCODE_SERVER_PASSWORD',
                                             'valueFrom': {'secretKeyRef': {'name': 's', 'key': 'k'}}}]},
        {'name': 'falkordb', 'command': ['/bin/sh', '-c'], 'args': ['exec redis-server --port 6379 -']},
    ], 'volumes': [{'name': 'data', 'persistentVolumeClaim': {'claimName': 'data'}}]}}


def test_the_checker_catches_the_old_pod():
    pod = old_pod()
    assert set(restricted_violations(pod)) == {
        f'{name}: {problem}' for name in ('opencode-server', 'falkordb')
        for problem in ('allowPrivilegeEscalation is not false', 'capabilities.drop lacks ALL',
                        'runAsNonRoot is not true', "seccompProfile.type is None")}
    assert set(project_violations(pod)) == {
        'opencode-server: readOnlyRootFilesystem is not true', 'falkordb: readOnlyRootFilesystem is not true',
        'opencode-server: no numeric runAsUser (the image may run as root)',
        'falkordb: no numeric runAsUser (the image may run as root)',
        'opencode-server: OPENCODE_SERVER_PASSWORD comes from a Secret as an environment variable'}
    assert loopback_only_violations(pod) == ['falkordb: not started with --bind 127.0.0.1']


@pytest.mark.parametrize('change, expected', [
    (lambda pod: pod['spec'].update(hostNetwork=True), 'pod: hostNetwork is set'),
    (lambda pod: pod['spec']['volumes'].append({'name': 'host', 'hostPath': {'path': '/'}}),
     "volume host: type ['hostPath'] is not allowed"),
    (lambda pod: pod['spec']['containers'][0]['securityContext'].update(runAsUser=0), 'opencode-server: runAsUser is 0'),
    (lambda pod: pod['spec']['containers'][1]['securityContext'].update(privileged=True), 'falkordb: privileged'),
    (lambda pod: pod['spec']['containers'][2]['securityContext']['capabilities'].update(add=['SYS_ADMIN']),
     "valkey: capabilities.add ['SYS_ADMIN']"),
    (lambda pod: pod['spec']['containers'][0]['ports'][0].update(hostPort=4096), 'opencode-server: hostPort 4096'),
])
def test_the_checker_catches_each_restricted_rule(change, expected):
    pod = copy.deepcopy(shipped_pod(with_datadog=False))
    change(pod)
    assert restricted_violations(pod) == [expected]


def test_the_checker_catches_a_secret_file_without_its_mount():
    pod = shipped_pod(with_datadog=False)
    server = pod['spec']['containers'][0]
    server['env'].append({'name': 'DD_API_KEY_FILE', 'value': '/etc/datadog-api-key'})
    assert project_violations(pod) == [
        "opencode-server: DD_API_KEY_FILE names '/etc/datadog-api-key', which no Secret mount provides"]

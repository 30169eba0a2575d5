"""The memory pod as the test runs it: deploy/opencode-memory-volumes.yaml and deploy/opencode-memory.yaml, played
with `podman kube play` against the image under test and local stand-ins (tests/pod/standins.py), plus the doubles
on the host: the local OpenAI-compatible model server (tests/doubles) and Datadog's APM test agent.

The pod YAML is used as shipped except for what a test deployment must change, all in `test_overrides` below:
the images' digests (the local stand-ins are named by tag only), the model and agent addresses (the doubles on the
host, reached through the pod network's gateway), DD_ENV, the
backup target (an rclone `local` remote on one more volume instead of B2, so no B2 key files) and a schedule of every
minute. Every security setting (uids, read-only roots, secrets as files) is played as shipped.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.support.podman import podman, podman_env
from tests.support.real_servers import REPO, wait_until

DEPLOY = REPO / 'deploy'
# Rendered from the chart (charts/opencode-server) by tools/render_deploy.py: a Deployment of one pod.
POD_YAML = DEPLOY / 'opencode-memory.yaml'
VOLUMES_YAML = DEPLOY / 'opencode-memory-volumes.yaml'
SECRET_TOOL = DEPLOY / 'opencode-memory-secret.py'
# The pod's Secrets on Podman 4.3, one per container (deploy/opencode-memory-secret.py --podman-create); the server's
# is the one a test removes.
SECRET_NAMES = tuple(f'opencode-memory-secrets-{container}'
                     for container in ('opencode-server', 'falkordb', 'valkey', 'opencode-backup', 'datadog-agent'))
SERVER_SECRET = 'opencode-memory-secrets-opencode-server'
KUBE_NETWORK = 'podman-default-kube-network'
OPENCODE_IMAGE = 'localhost/opencode-server:latest'
BACKUP_VOLUME = 'opencode-memory-test-backups'
EMBEDDING_DIM = 256
TEST_DD_ENV = 'pod-test'


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(path.read_text()) if document]


def pod_document() -> dict[str, Any]:
    """The Deployment as rendered from the chart."""
    (deployment,) = load_documents(POD_YAML)
    return deployment


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    """The pod the Deployment makes (its template's spec)."""
    return deployment['spec']['template']['spec']


def played_pod_name(deployment: dict[str, Any]) -> str:
    """Podman 4.3 names the pod of a one-replica Deployment `<name>-pod-0` (its containers `<name>-pod-0-<container>`)."""
    return f"{deployment['metadata']['name']}-pod-0"


def stand_in_reference(image: str) -> str:
    """The pod's pinned `name:tag@digest` without its digest: a local stand-in cannot have the upstream digest."""
    return image.split('@', 1)[0]


def images_named_by_the_pod() -> dict[str, str]:
    """Each container's image as the test plays it: the memory images' stand-ins by name and tag."""
    return {container['name']: stand_in_reference(container['image'])
            for container in pod_spec(pod_document())['containers']}


def volume_names() -> list[str]:
    return [document['metadata']['name'] for document in load_documents(VOLUMES_YAML)]


def container(pod: dict[str, Any], name: str) -> dict[str, Any]:
    return next(item for item in pod_spec(pod)['containers'] if item['name'] == name)


def drop_env(spec: dict[str, Any], *names: str) -> None:
    spec['env'] = [item for item in spec.get('env', []) if item['name'] not in names]


def set_env(spec: dict[str, Any], **values: str) -> None:
    env = [item for item in spec.setdefault('env', []) if item['name'] not in values]
    env += [{'name': name, 'value': value} for name, value in values.items()]
    spec['env'] = env


def model_config(model_base_url: str) -> str:
    """OpenCode's config with the model double as its provider (OPENCODE_CONFIG_CONTENT, merged over the image's)."""
    return json.dumps({
        'model': 'local-double/double-chat',
        'small_model': 'local-double/double-small',
        'provider': {'local-double': {
            'npm': '@ai-sdk/openai-compatible', 'name': 'Local OpenAI-compatible double',
            'options': {'baseURL': model_base_url, 'apiKey': '{env:OPENAI_API_KEY}'},
            'models': {
                'double-chat': {'name': 'double chat', 'tool_call': True, 'limit': {'context': 128000, 'output': 4096}},
                'double-small': {'name': 'double small', 'tool_call': False, 'limit': {'context': 128000, 'output': 4096}},
            },
        }},
    })


def test_overrides(pod: dict[str, Any], *, gateway: str, model_port: int, agent_port: int) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    for item in pod_spec(pod)['containers']:
        item['image'] = stand_in_reference(item['image'])
    model_url = f'http://{gateway}:{model_port}/v1'
    set_env(container(pod, 'opencode-server'),
            OPENCODE_CONFIG_CONTENT=model_config(model_url), OPENAI_BASE_URL=model_url,
            GRAPHITI_LLM_MODEL='double-chat', GRAPHITI_SMALL_LLM_MODEL='double-small',
            GRAPHITI_EMBEDDING_MODEL='double-embedding', GRAPHITI_EMBEDDING_DIM=str(EMBEDDING_DIM),
            DD_TRACE_AGENT_URL=f'http://{gateway}:{agent_port}', DD_ENV=TEST_DD_ENV,
            MEMORY_RETRY_MAX_SECONDS='5')
    sidecar = container(pod, 'opencode-backup')
    # The B2 keys are left out of the test's Secret (unset values are), so the sidecar must not name their files.
    drop_env(sidecar, 'B2_APPLICATION_KEY_ID_FILE', 'B2_APPLICATION_KEY_FILE', 'B2_BUCKET')
    set_env(sidecar, BACKUP_TARGET='rclone', BACKUP_RCLONE_REMOTE='backups:/backups', RCLONE_CONFIG_BACKUPS_TYPE='local',
            BACKUP_SCHEDULE='* * * * *')
    sidecar['volumeMounts'].append({'name': 'backup-remote', 'mountPath': '/backups'})
    pod_spec(pod)['volumes'].append({'name': 'backup-remote', 'persistentVolumeClaim': {'claimName': BACKUP_VOLUME}})
    return pod


def kube_network_gateway() -> str:
    if podman('network', 'exists', KUBE_NETWORK, check=False).returncode != 0:
        podman('network', 'create', KUBE_NETWORK)
    (network,) = json.loads(podman('network', 'inspect', KUBE_NETWORK).stdout)
    return network['subnets'][0]['gateway']


def remove_secret_volumes() -> None:
    """Podman 4.3 copies each Secret mounted as files into a volume named after it, which `kube down` leaves and the
    next play reuses as it is: without this, new Secrets (or none) would not be what the next pod sees."""
    for name in SECRET_NAMES:
        podman('volume', 'rm', '-f', name, check=False)


def remove_secrets() -> None:
    for name in SECRET_NAMES:
        podman('secret', 'rm', name, check=False)
    remove_secret_volumes()


def create_secrets(environ: dict[str, str]) -> None:
    """The Secrets as an operator makes them for Podman 4.3: the deploy tool runs `podman secret create` for each."""
    remove_secrets()
    engine = {name: value for name, value in podman_env().items() if name.startswith('CONTAINERS_')}
    made = subprocess.run([sys.executable, str(SECRET_TOOL), '--podman-create'], env={**environ, **engine},
                          capture_output=True, text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr


@dataclass
class Steps:
    """Named checks with their times, printed as they finish and kept for docs/benchmarks/pod-and-backups.md."""

    figures: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def record(self, name: str, seconds: float, **details: Any) -> None:
        self.figures[name] = {'seconds': round(seconds, 1), **details}
        print(f'STEP {name}: {seconds:.1f} s {json.dumps(details) if details else ""}', flush=True)
        if self.path is not None:
            self.path.write_text(json.dumps(self.figures, indent=2))


class Pod:
    """One `podman kube play` of the (overridden) pod YAML and the containers it made, by the names Podman gives
    them (`<pod>-<container>`)."""

    def __init__(self, spec: dict[str, Any], work_dir: Path) -> None:
        self.spec = spec
        self.name = played_pod_name(spec)
        self.yaml_path = work_dir / 'pod.yaml'
        self.yaml_path.write_text(yaml.safe_dump(spec, sort_keys=False))

    def container_name(self, name: str) -> str:
        return f'{self.name}-{name}'

    def play(self, replace: bool = False) -> None:
        """`--replace`: what the README runs, so a pod an earlier (or failed) play left is replaced, not refused."""
        podman('kube', 'play', *(['--replace'] if replace else []), str(self.yaml_path), timeout=300)

    def down(self) -> None:
        podman('kube', 'down', str(self.yaml_path), check=False, timeout=120)
        remove_secret_volumes()

    def exec(self, name: str, *command: str, check: bool = True, timeout: float = 120,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        options = [item for key in (env or {}) for item in ('-e', key)]
        return podman('exec', *options, self.container_name(name), *command, check=check, timeout=timeout, env=env)

    def inspect(self, name: str) -> dict[str, Any]:
        return json.loads(podman('inspect', self.container_name(name)).stdout)[0]

    def logs(self, name: str) -> str:
        result = podman('logs', self.container_name(name), check=False)
        return result.stdout + result.stderr

    def probe_passes(self, name: str, timeout: float = 40) -> bool:
        """The container's livenessProbe (Podman runs it as the container's health check). Podman 4.3 does not
        enforce the probe's timeoutSeconds on `healthcheck run`: a probe still running after `timeout` failed."""
        try:
            return podman('healthcheck', 'run', self.container_name(name), check=False, timeout=timeout).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def ip(self) -> str:
        infra = json.loads(podman('pod', 'inspect', self.name).stdout)['InfraContainerID']
        networks = json.loads(podman('inspect', infra).stdout)[0]['NetworkSettings']['Networks']
        return next(iter(networks.values()))['IPAddress']

    def redis(self, name: str, port: int, *command: str) -> str:
        """redis-cli in that container, authenticated with the password file the server itself reads (the Secret's
        key `<name>-password`): the value never leaves the container."""
        script = f'REDISCLI_AUTH="$(cat /run/secrets/{name}-password)"; export REDISCLI_AUTH; exec redis-cli "$@"'
        return self.exec(name, 'sh', '-c', script, 'redis-cli', '-e', '--no-auth-warning', '-p', str(port), *command,
                         timeout=60).stdout

    def graph_counts(self) -> dict[str, int]:
        """Nodes, edges and episodes over every graph in FalkorDB, read in the FalkorDB container."""
        totals = {'graphs': 0, 'nodes': 0, 'edges': 0, 'episodes': 0}
        for graph in self.redis('falkordb', 6379, 'GRAPH.LIST').split():
            totals['graphs'] += 1
            for key, cypher in (('nodes', 'MATCH (n) RETURN count(n)'), ('edges', 'MATCH ()-[r]->() RETURN count(r)'),
                                ('episodes', 'MATCH (e:Episodic) RETURN count(e)')):
                lines = self.redis('falkordb', 6379, 'GRAPH.RO_QUERY', graph, cypher).split('\n')
                totals[key] += int(lines[1])
        return totals

    def episode_text(self) -> str:
        """Every episode's content in FalkorDB (redis-cli's plain output: one value a line)."""
        return '\n'.join(self.redis('falkordb', 6379, 'GRAPH.RO_QUERY', graph, 'MATCH (e:Episodic) RETURN e.content')
                         for graph in self.redis('falkordb', 6379, 'GRAPH.LIST').split())


def wait_for(predicate, timeout: float, what: str, interval: float = 2.0) -> Any:
    return wait_until(predicate, timeout, what, interval)


def monotonic() -> float:
    return time.monotonic()

"""The pod scenario's shared stack (module scope: the steps of test_memory_pod.py run in order on one pod)."""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyrage import x25519

from tests.pod import pod_stack, standins
from tests.pod.pod_stack import Pod, Steps
from tests.support.datadog_test_agent import DatadogTestAgent
from tests.support.podman import build_image, harness_work_dir, podman
from tests.support.server_logs import kept_logs_dir
from tests.support.real_servers import REPO

sys.path.insert(0, str(REPO / 'tests' / 'doubles'))

from openai_compatible_server import OpenAICompatibleServer  # noqa: E402


@dataclass
class PodStack:
    work_dir: Path
    model: OpenAICompatibleServer
    agent: DatadogTestAgent
    gateway: str
    secret_env: dict[str, str]
    steps: Steps
    pod: Pod | None = None
    backup_manifest: dict | None = None
    sent: list[int] | None = None

    def new_pod(self) -> Pod:
        spec = pod_stack.test_overrides(pod_stack.pod_document(), gateway=self.gateway, model_port=self.model.port,
                                        agent_port=self.agent.port)
        self.pod = Pod(spec, self.work_dir)
        return self.pod

    @property
    def password(self) -> str:
        return self.secret_env['OPENCODE_SERVER_PASSWORD']


def remove_pod_volumes(include_backups: bool) -> None:
    names = pod_stack.volume_names() + ([pod_stack.BACKUP_VOLUME] if include_backups else [])
    for name in names:
        podman('volume', 'rm', '-f', name, check=False)


def play_volumes() -> None:
    podman('kube', 'play', str(pod_stack.VOLUMES_YAML))
    if podman('volume', 'exists', pod_stack.BACKUP_VOLUME, check=False).returncode != 0:
        podman('volume', 'create', pod_stack.BACKUP_VOLUME)


@pytest.fixture(scope='module')
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodStack]:
    work_dir = tmp_path_factory.mktemp('pod')
    volumes_before = set(podman('volume', 'ls', '--quiet').stdout.split())
    image = build_image()
    podman('tag', image, pod_stack.OPENCODE_IMAGE)
    images = pod_stack.images_named_by_the_pod()
    standins.ensure_falkordb(images['falkordb'])
    standins.ensure_valkey(images['valkey'])
    # The harness's own store: a run interrupted earlier may have left the pod or its volumes behind.
    podman('pod', 'rm', '-f', pod_stack.played_pod_name(pod_stack.pod_document()), check=False)
    remove_pod_volumes(include_backups=True)
    gateway = pod_stack.kube_network_gateway()
    model = OpenAICompatibleServer(host='0.0.0.0', dim=pod_stack.EMBEDDING_DIM).start()
    # On every host address: the pod's containers reach it through the network's gateway.
    agent = DatadogTestAgent(work_dir, host='0.0.0.0', ready_timeout=60).start()
    secret_env = {'PATH': os.environ.get('PATH', ''), 'OPENCODE_SERVER_PASSWORD': secrets.token_urlsafe(24),
                  'OPENAI_API_KEY': 'test-key-not-secret',
                  'BACKUP_ENCRYPTION_KEY': str(x25519.Identity.generate())}
    pod_stack.create_secrets(secret_env)
    play_volumes()
    steps = Steps(path=harness_work_dir() / 'pod-figures.json')
    state = PodStack(work_dir, model, agent, gateway, secret_env, steps)
    try:
        yield state
    finally:
        if state.pod is not None:
            state.pod.down()
        remove_pod_volumes(include_backups=True)
        pod_stack.remove_secrets()
        remove_anonymous_volumes(since=volumes_before)
        agent.stop()
        model.stop()


def remove_anonymous_volumes(since: set[str]) -> None:
    """Podman gives each image VOLUME a container does not mount an anonymous volume (the sidecar mounts only the data
    volume) and keeps it after `kube down`; Kubernetes makes none. The test's own go, by their 64-hex names."""
    for name in set(podman('volume', 'ls', '--quiet').stdout.split()) - since:
        if len(name) == 64 and all(character in '0123456789abcdef' for character in name):
            podman('volume', 'rm', '--force', name, check=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """A failed pod step keeps every container's log (`podman logs`) beside the other servers' logs: the pod is gone
    by the time anyone reads the report."""
    outcome = yield
    report = outcome.get_result()
    stack = getattr(item, 'funcargs', {}).get('stack')
    if not report.failed or not isinstance(stack, PodStack) or stack.pod is None:
        return
    folder = kept_logs_dir() / re.sub(r'[^A-Za-z0-9_.-]+', '_', item.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    for container in pod_stack.pod_spec(stack.pod.spec)['containers']:
        name = container['name']
        (folder / f'pod-{name}.log').write_text(stack.pod.logs(name))
    report.sections.append(('pod container logs', f'kept in {folder}'))


from tests.support.podman import opencode_image, podman_session  # noqa: E402,F401  (fixtures for test_image_alone)

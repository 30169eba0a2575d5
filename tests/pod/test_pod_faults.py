"""Faults and bad input in the memory pod (issue 10): one container of the pod fails while users keep chatting.
Turns keep working (memory fails open), and once everything is back every turn is stored exactly once. Same stack
as test_memory_pod.py (stand-ins, doubles on the host); each step prints its time (`STEP …`).

Bad input: a FalkorDB that never answers (paused), a backup remote that rejects writes, a pod without its Secret:
each is one clear line in a probe or log, and no stored data is touched.
"""

from __future__ import annotations

import time

from tests.pod.conftest import PodStack
from tests.pod.pod_stack import BACKUP_VOLUME, SERVER_SECRET, wait_for
from tests.pod.test_memory_pod import backups_on_remote, chat_turn, play_new_pod, wait_ready
from tests.support.podman import PodmanError, podman

MARK = 'FAULTTURN'
STORE_TIMEOUT = 900


def turn_text(number: int) -> str:
    return f'{MARK}{number:02d} Project{number:02d} keeps its data in store{number:02d}.'


def episodes_with(stack: PodStack, needle: str) -> int:
    pod = stack.pod
    assert pod is not None
    total = 0
    for graph in pod.redis('falkordb', 6379, 'GRAPH.LIST').split():
        answer = pod.redis('falkordb', 6379, 'GRAPH.RO_QUERY', graph,
                           f"MATCH (e:Episodic) WHERE e.content CONTAINS '{needle}' RETURN count(e)")
        total += int(answer.split('\n')[1])
    return total


def episodes_of_turn(stack: PodStack, marker: str) -> int:
    """Episodes holding the turn itself: its user line. A later turn's reply may quote it (the model double echoes the
    user message, recalled memory included), which is a new episode that mentions the turn, not the turn stored twice."""
    return episodes_with(stack, f'user: {marker} ')


def timed_turn(stack: PodStack, number: int) -> float:
    started = time.monotonic()
    _, reply = chat_turn(stack, turn_text(number))
    text = ' '.join(part.get('text', '') for part in reply.get('parts', []) if part.get('type') == 'text')
    assert f'{MARK}{number:02d}' in text, reply
    return time.monotonic() - started


def test_the_pod_comes_up(stack: PodStack) -> None:
    play_new_pod(stack, 'faults: pod ready')
    stack.sent = [1]
    timed_turn(stack, 1)


def test_turns_keep_working_while_falkordb_is_stopped(stack: PodStack) -> None:
    pod = stack.pod
    podman('stop', '-t', '5', pod.container_name('falkordb'))
    times = [timed_turn(stack, number) for number in (2, 3, 4)]
    stack.sent += [2, 3, 4]
    outage_log = pod.logs('opencode-server')
    podman('start', pod.container_name('falkordb'))
    wait_ready(pod)
    stack.steps.record('faults: turns with FalkorDB stopped (slowest turn)', max(times), turns=len(times))
    assert 'Traceback' not in outage_log[-20000:]


def test_turns_keep_working_across_a_valkey_restart(stack: PodStack) -> None:
    pod = stack.pod
    started = time.monotonic()
    podman('restart', '-t', '5', pod.container_name('valkey'), timeout=60)
    times = [timed_turn(stack, number) for number in (5, 6)]
    stack.sent += [5, 6]
    wait_ready(pod)
    stack.steps.record('faults: valkey restart and two turns', time.monotonic() - started, slowest_turn=round(max(times), 1))


def test_turns_keep_working_after_opencode_server_is_killed_mid_ingestion(stack: PodStack) -> None:
    pod = stack.pod
    timed_turn(stack, 7)
    stack.sent.append(7)
    model_calls = len(stack.model.requests())
    stack.model.inject_faults(count=0, delay_seconds=4)  # graphiti's extraction calls now take a while
    try:
        wait_for(lambda: len(stack.model.requests()) > model_calls, 120, 'the memory process to call the model')
        started = time.monotonic()
        podman('kill', '--signal', 'KILL', pod.container_name('opencode-server'))
    finally:
        stack.model.inject_faults(count=0, delay_seconds=0)

    def running_again() -> bool:
        return bool(pod.inspect('opencode-server')['State']['Running'])
    restarted_by_policy = True
    try:
        wait_for(running_again, 20, 'restartPolicy Always to restart opencode-server')
    except AssertionError:
        restarted_by_policy = False
        podman('start', pod.container_name('opencode-server'))
    wait_ready(pod)
    stack.steps.record('faults: opencode-server SIGKILL to ready again', time.monotonic() - started,
                       restarted_by_restart_policy=restarted_by_policy)
    timed_turn(stack, 8)
    stack.sent.append(8)


def test_a_falkordb_that_never_answers_is_one_failing_probe_and_one_log_line(stack: PodStack) -> None:
    pod = stack.pod
    before = pod.logs('opencode-server').count('cannot reach FalkorDB')
    # SIGSTOP: the server keeps its socket and never answers (`podman pause` needs a cgroup freezer, absent here).
    podman('kill', '--signal', 'STOP', pod.container_name('falkordb'))
    try:
        started = time.monotonic()
        assert not pod.probe_passes('falkordb', timeout=15)
        stack.steps.record('bad input: probe of a stopped (SIGSTOP) FalkorDB fails after', time.monotonic() - started)
        timed_turn(stack, 9)
        stack.sent.append(9)
        wait_for(lambda: pod.logs('opencode-server').count('cannot reach FalkorDB') > before, 120,
                 'the memory process to say FalkorDB cannot be reached')
        time.sleep(20)
        lines = [line for line in pod.logs('opencode-server').splitlines() if 'cannot reach FalkorDB' in line]
        assert len(lines) - before == 1, lines
        assert 'Timeout' in lines[-1], lines[-1]
    finally:
        podman('kill', '--signal', 'CONT', pod.container_name('falkordb'))
    wait_ready(pod)


def test_every_turn_is_stored_exactly_once_once_everything_is_back(stack: PodStack) -> None:
    started = time.monotonic()
    markers = [f'{MARK}{number:02d}' for number in stack.sent]

    def all_stored() -> dict[str, int]:
        counts = {marker: episodes_of_turn(stack, marker) for marker in markers}
        return counts if all(counts.values()) else {}
    try:
        counts = wait_for(all_stored, STORE_TIMEOUT, 'every turn stored', interval=5)
    except AssertionError:
        counts = {marker: episodes_of_turn(stack, marker) for marker in markers}
    time.sleep(10)  # a duplicate would come from a redelivery after the last store
    counts = {marker: episodes_of_turn(stack, marker) for marker in markers}
    quoted = {marker: mentions - counts[marker] for marker in markers
              if (mentions := episodes_with(stack, f'{marker} ')) > counts[marker]}
    lost = sorted(marker for marker, count in counts.items() if count == 0)
    duplicated = sorted(marker for marker, count in counts.items() if count > 1)
    stack.steps.record('faults: all turns stored after the last fault', time.monotonic() - started,
                       turns=len(markers), lost=lost, duplicated=duplicated, quoted_by_later_turns=quoted)
    assert not lost and not duplicated, counts


def test_a_backup_remote_that_rejects_writes_is_one_clear_line_and_touches_nothing(stack: PodStack) -> None:
    pod = stack.pod
    graph_before = pod.graph_counts()
    backups_before = backups_on_remote(stack)
    # /sys is mounted read-only in the container: every write to that remote is refused.
    result = pod.exec('opencode-backup', '/app/scripts/backup', '--no-prune', check=False, timeout=300,
                      env={'BACKUP_RCLONE_REMOTE': 'backups:/sys/kernel'})
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    errors = [line for line in output.splitlines() if 'error' in line.lower() or 'failed' in line.lower()]
    stack.steps.record('bad input: backup to a read-only remote', 0, exit_code=result.returncode,
                       last_line=output.splitlines()[-1][:300] if output else '')
    assert 'Traceback' not in output and len(errors) == 1, output
    assert 'read-only file system' in errors[0], errors
    assert pod.graph_counts() == graph_before
    # Every backup already on the real remote is there unchanged. The sidecar's cron (every minute in this test) may
    # add one meanwhile: a CI run saw it do so, which is the schedule working, not the failed run writing.
    backups_after = backups_on_remote(stack)
    assert all(backup in backups_after for backup in backups_before), (backups_before, backups_after)


def test_a_pod_without_its_secret_does_not_start_and_says_why(stack: PodStack) -> None:
    pod = stack.pod
    stored = pod.graph_counts()
    pod.down()
    podman('secret', 'rm', SERVER_SECRET)
    try:
        pod.play()
        raise AssertionError('the pod started without its Secret')
    except PodmanError as error:
        message = str(error)
    reason = [line for line in message.splitlines() if SERVER_SECRET in line]
    stack.steps.record('bad input: pod without its Secret', 0, message=reason[-1][:300] if reason else message[-300:])
    assert reason, message
    running = podman('ps', '--format', '{{.Names}}').stdout.split()
    assert not [name for name in running if name.startswith(f'{pod.name}-')], f'started anyway: {running}'
    # Podman 4.3 leaves the failed pod behind (Created): the README's `kube play --replace` replaces it. The data
    # stays: with the Secret back, the same volumes bring the same graph.
    from tests.pod import pod_stack
    pod_stack.create_secrets(stack.secret_env)
    pod.play(replace=True)
    wait_ready(pod)
    assert pod.graph_counts() == stored
    assert podman('volume', 'exists', BACKUP_VOLUME, check=False).returncode == 0

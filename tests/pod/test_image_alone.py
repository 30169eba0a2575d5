"""The image alone, as the README's `podman run` shows it, with no FalkorDB, Valkey or Datadog agent anywhere
(issue 10, item 3): the log says once per missing server what it cannot reach and how it retries, with no
traceback and no restart loop, while OpenCode itself answers."""

from __future__ import annotations

import re
import time

from tests.support.podman import OPEN_ON_A_PRIVATE_NETWORK, Podman

OBSERVE_SECONDS = 45


def test_the_image_alone_logs_one_line_per_unreachable_server_and_no_traceback(opencode_image: str,
                                                                               podman_session: Podman) -> None:
    server = podman_session.run(opencode_image, *OPEN_ON_A_PRIVATE_NETWORK, '--network', 'none', role='alone')
    server.wait_http_inside('/config', '200', timeout=180)
    time.sleep(OBSERVE_SECONDS)
    log = server.logs()
    assert server.running()
    assert 'Traceback' not in log, log[-4000:]
    assert 'memory process exited' not in log, log[-4000:]
    assert len(re.findall(r'cannot reach FalkorDB at localhost:6379 \(.*\); retrying in \d+s, backing off to every 60s', log)) == 1, log[-4000:]
    assert len(re.findall(r'cannot reach Valkey at localhost:6380 \(.*\); retrying in \d+s, backing off to every 60s', log)) == 1, log[-4000:]
    assert 'failed to send' not in log and len(re.findall('cannot reach the Datadog agent', log)) <= 1, log[-4000:]
    warnings = [line for line in log.splitlines() if 'WARNING' in line or 'ERROR' in line or 'warning:' in line]
    assert len(warnings) <= 4, '\n'.join(warnings)

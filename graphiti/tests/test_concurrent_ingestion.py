"""Ingestion keeps up with a team (issue 19): episodes of different projects are ingested at once, one project's
episodes one after another in the order they were sent, nothing lost or stored twice. Real FalkorDB and Redis, the
real memory process, and the local OpenAI-compatible double answering each chat call late (as real models do); the
double records which chat calls it answered at the same time."""

from __future__ import annotations

from conftest import graph_rows
from openai_compatible_server import current_message

from tests.support.real_servers import MemoryManager, RedisServer

MARKERS = {'apollo': 'Apollomarker', 'boreas': 'Boreasmarker'}


def test_two_projects_queued_together_are_ingested_at_once_openai_compatible_double(
    memory_manager: MemoryManager, openai_double, falkordb: RedisServer
) -> None:
    openai_double.inject_faults(delay_seconds=0.4)
    openai_double.clear_requests()
    for group, marker in MARKERS.items():
        memory_manager.add(group_id=group, name=f'{group}-1', content=f'user: {marker} uses Postgres for storage.')
    memory_manager.wait_idle(timeout=120)
    calls = openai_double.chat_calls()
    apollo = [call for call in calls if MARKERS['apollo'] in call['prompt']]
    assert apollo, 'no chat call carried the first project\'s episode'
    overlapped = [call for call in apollo if any(MARKERS['boreas'] in other for other in call['concurrent_with'])]
    assert overlapped, 'the two projects were ingested one after the other'
    for group, marker in MARKERS.items():
        names = [row[0] for row in graph_rows(falkordb, group, 'MATCH (e:Episodic) RETURN e.content')]
        assert names == [f'user: {marker} uses Postgres for storage.'], (group, names)


def test_one_projects_episodes_are_stored_one_after_another_in_order_openai_compatible_double(
    memory_manager: MemoryManager, openai_double, falkordb: RedisServer
) -> None:
    openai_double.inject_faults(delay_seconds=0.2)
    openai_double.clear_requests()
    contents = [f'user: step {number} of the Orion migration: Orion{number}marker.' for number in range(1, 5)]
    for number, content in enumerate(contents, 1):
        memory_manager.add(group_id='orion', name=f'orion-{number}', content=content)
    memory_manager.wait_idle(timeout=180)
    # never two of its episodes at once: no chat call of one episode overlaps one of another
    def episode_of(prompt: str) -> int | None:
        """Which episode a chat call works on: the marker in its current message (earlier ones appear as context)."""
        found = [n for n in range(1, 5) if f'Orion{n}marker' in (current_message(prompt) or '')]
        return found[0] if len(found) == 1 else None

    for call in openai_double.chat_calls():
        own = episode_of(call['prompt'])
        if own is None:
            continue
        others = {episode_of(other) for other in call['concurrent_with']} - {own, None}
        assert not others, f'episode {own} was ingested while episode(s) {sorted(others)} were'
    rows = graph_rows(falkordb, 'orion', 'MATCH (e:Episodic) RETURN e.content, e.created_at ORDER BY e.created_at')
    assert [row[0] for row in rows] == contents, 'stored out of the order sent (or lost, or twice)'

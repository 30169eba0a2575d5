"""Ingestion keeps up with a team (issue 19): episodes of different projects are ingested at once; one project's
episodes in the order they were sent, those that queued together in one pass; nothing lost or stored twice. Real FalkorDB and Redis, the
real memory process, and the local OpenAI-compatible double answering each chat call late (as real models do); the
double records which chat calls it answered at the same time."""

from __future__ import annotations

from pathlib import Path

from conftest import episode_contents, graph_rows
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


def facts_and_entities(falkordb: RedisServer, group: str) -> tuple[list[str], list[tuple[str, bool]]]:
    """The graph as a reader sees it: entity names, and each fact with whether it was invalidated."""
    entities = sorted(row[0] for row in graph_rows(falkordb, group, 'MATCH (n:Entity) RETURN n.name'))
    facts = sorted((row[0], row[1] is not None) for row in graph_rows(
        falkordb, group, 'MATCH ()-[r:RELATES_TO]->() RETURN r.fact, r.invalid_at'))
    return entities, facts


def test_one_projects_backlog_stored_together_is_the_graph_stored_one_by_one_openai_compatible_double(
    memory_manager: MemoryManager, openai_double, falkordb: RedisServer
) -> None:
    """Episodes of one project that queued while it was busy are stored in one graphiti pass (its bulk path): the
    graph is the one the same episodes sent one after the other make, entities not duplicated and the earlier fact
    invalidated by the later one (which graphiti's bulk path alone leaves valid), episodes in the order sent."""
    contents = ['user: Vega uses Kafka for events.', 'user: Orion uses Postgres for storage.',
                'user: Orion now uses MySQL for storage.', 'user: Vega uses Postgres for reports.']
    openai_double.inject_faults(delay_seconds=0.3)
    for number, content in enumerate(contents):
        memory_manager.add(group_id='one-by-one', name=f'step-{number}', content=content)
        memory_manager.wait_stored(number + 1, timeout=120)
    openai_double.clear_requests()
    for number, content in enumerate(contents):  # the first keeps the project busy while the others queue
        memory_manager.add(group_id='together', name=f'step-{number}', content=content)
    memory_manager.wait_stored(2 * len(contents), timeout=180)

    extracted_together = [call for call in openai_double.chat_calls() if call['schema'] == 'CombinedExtraction']
    assert {'Postgres for storage', 'MySQL'} <= {
        word for call in extracted_together for word in ('Postgres for storage', 'MySQL')
        if word in current_message(call['prompt'])}, 'the queued episodes were not stored in one bulk pass'
    one_by_one = facts_and_entities(falkordb, 'one-by-one')
    assert ('Orion uses Postgres for storage.', True) in one_by_one[1], one_by_one
    assert facts_and_entities(falkordb, 'together') == one_by_one
    rows = graph_rows(falkordb, 'together', 'MATCH (e:Episodic) RETURN e.content ORDER BY e.created_at, e.valid_at')
    assert [row[0] for row in rows] == contents, 'stored out of the order sent (or lost, or twice)'


def test_a_project_flooding_the_queue_does_not_hold_back_another_openai_compatible_double(
    memory_env: dict[str, str], tmp_path: Path, falkordb: RedisServer
) -> None:
    """One project queues 40 episodes at once, another one episode behind them; with room for only 4 read-ahead
    entries in memory (1 lane, batches of 2), the other project's episode is read at once (the flood's are kept by
    id) and stored long before the flood is: its lane takes its turn as soon as the flood's current batch is done."""
    memory_env.update(MEMORY_INGEST_CONCURRENCY='1', MEMORY_INGEST_BATCH='2')
    manager = MemoryManager(memory_env, tmp_path / 'memory-manager.log').start()
    try:
        for number in range(40):
            manager.add(group_id='flood', name=f'flood-{number}', content=f'user: Floodmarker{number} uses Redis.')
        manager.add(group_id='quiet', name='quiet-1', content='user: Quietmarker uses Postgres.')
        manager.wait_stored(41, timeout=300)
        log = manager.log_text()
    finally:
        manager.stop()
    stored = [line.rsplit(' in group ', 1)[1].strip() for line in log.splitlines() if ' in group ' in line
              and 'stored episode' in line]
    assert stored.count('flood') == 40 and stored.count('quiet') == 1, stored
    assert stored.index('quiet') <= 6, f'the quiet project\'s episode was stored after {stored.index("quiet")} of the flood\'s'
    assert episode_contents(falkordb, 'flood') == sorted(f'user: Floodmarker{n} uses Redis.' for n in range(40))

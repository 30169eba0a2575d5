"""Graphiti-shaped data written straight through the falkordb client (one graph per group, like graphiti-core's
FalkorDriver), plus the Valkey state the memory process keeps (an ingest stream with a consumer group)."""
from collections.abc import Callable

import falkordb
import redis

GROUPS = ("project-alpha", "project_beta")
QUEUE_STREAM = "memory:episodes"


def fill_falkordb(host: str, port: int, password: str, entities_per_group: int = 60) -> None:
    db = falkordb.FalkorDB(host=host, port=port, password=password)
    for group in GROUPS:
        graph = db.select_graph(group)
        graph.query("CREATE INDEX FOR (n:Entity) ON (n.uuid)")
        graph.query("CREATE INDEX FOR (n:Episodic) ON (n.uuid)")
        graph.query("CALL db.idx.fulltext.createNodeIndex('Entity', 'name', 'summary')")
        graph.query(
            "CREATE VECTOR INDEX FOR (n:Entity) ON (n.name_embedding) OPTIONS {dimension:4, similarityFunction:'cosine'}"
        )
        graph.query(
            """
            UNWIND range(0, $count - 1) AS i
            CREATE (:Entity {uuid: $group + '-entity-' + toString(i), name: 'entity ' + toString(i), group_id: $group,
                             summary: 'summary of entity ' + toString(i), created_at: '2025-01-01T00:00:00Z',
                             name_embedding: vecf32([toFloat(i), 1.0, 0.5, 0.25])})
            """,
            {"group": group, "count": entities_per_group},
        )
        graph.query(
            """
            UNWIND range(0, $count - 2) AS i
            MATCH (a:Entity {uuid: $group + '-entity-' + toString(i)}), (b:Entity {uuid: $group + '-entity-' + toString(i + 1)})
            CREATE (a)-[:RELATES_TO {uuid: $group + '-edge-' + toString(i), name: 'KNOWS', group_id: $group,
                                     fact: 'entity ' + toString(i) + ' knows entity ' + toString(i + 1),
                                     valid_at: '2025-01-02T00:00:00Z', invalid_at: null}]->(b)
            """,
            {"group": group, "count": entities_per_group},
        )
        graph.query(
            """
            UNWIND range(0, 4) AS i
            CREATE (e:Episodic {uuid: $group + '-episode-' + toString(i), name: 'message ' + toString(i),
                                group_id: $group, source: 'message', source_description: 'chat',
                                content: 'user: remember fact number ' + toString(i), valid_at: '2025-01-03T00:00:00Z'})
            WITH e, i
            MATCH (n:Entity {uuid: $group + '-entity-' + toString(i)})
            CREATE (e)-[:MENTIONS {uuid: $group + '-mention-' + toString(i), group_id: $group}]->(n)
            """,
            {"group": group},
        )


def graph_state(host: str, port: int, password: str) -> dict[str, object]:
    """Everything a restore must bring back, in a comparable form."""
    db = falkordb.FalkorDB(host=host, port=port, password=password)
    state: dict[str, object] = {}
    for group in sorted(db.list_graphs()):
        graph = db.select_graph(group)
        nodes = graph.ro_query("MATCH (n) RETURN labels(n), properties(n) ORDER BY n.uuid").result_set
        edges = graph.ro_query(
            "MATCH (a)-[r]->(b) RETURN type(r), properties(r), a.uuid, b.uuid ORDER BY r.uuid"
        ).result_set
        indexes = graph.ro_query("CALL db.indexes() YIELD label, properties, types RETURN label, properties, types").result_set
        state[group] = {"nodes": nodes, "edges": edges, "indexes": sorted(map(repr, indexes))}
    return state


def fill_valkey(client_for_db: Callable[[int], redis.Redis]) -> None:
    client = client_for_db(0)
    for number in range(3):
        client.xadd(QUEUE_STREAM, {"group_id": GROUPS[0], "content": f"queued episode {number}"})
    client.xgroup_create(QUEUE_STREAM, "workers", id="0")
    client.xreadgroup("workers", "worker-1", {QUEUE_STREAM: ">"}, count=1)  # one delivered, not yet acknowledged
    client.hset("memory:dead-letters", mapping={"1-0": "failed twice"})
    client.set("memory:lease", "worker-1", ex=3600)
    client_for_db(3).set(b"\x00binary-key", b"\x00\xffbinary value")  # another db, non-UTF-8 key and value


def valkey_state(client_for_db: Callable[[int], redis.Redis]) -> dict[str, object]:
    client = client_for_db(0)
    return {
        "keys": sorted(client.keys()),
        "stream": client.xrange(QUEUE_STREAM),
        "pending": client.xpending(QUEUE_STREAM, "workers")["pending"] if client.exists(QUEUE_STREAM) else None,
        "dead_letters": client.hgetall("memory:dead-letters"),
        "lease": client.get("memory:lease"),
        "lease_has_ttl": client.ttl("memory:lease") > 0,
        "db3": {key: client_for_db(3).get(key) for key in client_for_db(3).keys()},
    }

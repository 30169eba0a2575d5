"""Export a group's graph to a JSON document and import it into an empty graph, without any LLM call.

Nodes and relationships are copied property by property (uuids, timestamps, embeddings included),
so an import restores exactly what was exported rather than re-deriving it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from .graph_store import GraphStore

EXPORT_FORMAT = 'opencode-memory-export'
EXPORT_VERSION = 1
PRIMARY_LABELS = ('Episodic', 'Entity', 'Community', 'Saga')
BATCH_SIZE = 200
SAFE_IDENTIFIER_CHARS = set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_')


class ImportRefused(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _identifier(name: object) -> str:
    # Labels and relationship types cannot be Cypher parameters; only plain identifiers pass.
    if not isinstance(name, str) or not name or not set(name) <= SAFE_IDENTIFIER_CHARS:
        raise ImportRefused(f'unsafe label or relationship type {str(name)[:40]!r}')
    return name


def _primary_label(labels: list[str]) -> str:
    return next((label for label in PRIMARY_LABELS if label in labels), labels[0] if labels else '')


def _is_embedding(key: str, value: Any) -> bool:
    return key.endswith('_embedding') and isinstance(value, list)


async def export_group(store: GraphStore, group_id: str) -> dict[str, Any]:
    await store.require_graph(group_id)
    graphiti = await store.graph_for(group_id)
    node_rows, _, _ = await graphiti.driver.execute_query(
        'MATCH (n) RETURN labels(n) AS labels, properties(n) AS properties ORDER BY n.uuid'
    ) or ([], None, None)
    edge_rows, _, _ = await graphiti.driver.execute_query(
        'MATCH (a)-[r]->(b) RETURN type(r) AS type, labels(a) AS source_labels, a.uuid AS source_uuid, '
        'labels(b) AS target_labels, b.uuid AS target_uuid, properties(r) AS properties ORDER BY r.uuid'
    ) or ([], None, None)
    nodes = [{'labels': list(row['labels']), 'properties': dict(row['properties'])} for row in node_rows]
    edges = [
        {
            'type': row['type'],
            'source_uuid': row['source_uuid'],
            'source_label': _primary_label(list(row['source_labels'])),
            'target_uuid': row['target_uuid'],
            'target_label': _primary_label(list(row['target_labels'])),
            'properties': dict(row['properties']),
        }
        for row in edge_rows
    ]
    return {
        'format': EXPORT_FORMAT,
        'version': EXPORT_VERSION,
        'group_id': group_id,
        'exported_at': datetime.now(timezone.utc).isoformat(),
        'counts': await store.counts(group_id),
        'nodes': nodes,
        'edges': edges,
    }


def _validate_document(document: Any) -> None:
    if not isinstance(document, dict) or document.get('format') != EXPORT_FORMAT:
        raise ImportRefused(f'not an {EXPORT_FORMAT} document')
    if document.get('version') != EXPORT_VERSION:
        raise ImportRefused(f'unsupported export version {document.get("version")!r}')
    if not isinstance(document.get('nodes'), list) or not isinstance(document.get('edges'), list):
        raise ImportRefused('nodes and edges must be lists')


def _split_properties(properties: dict[str, Any], group_id: str) -> tuple[dict[str, Any], dict[str, list[float]]]:
    plain = {k: v for k, v in properties.items() if not _is_embedding(k, v)}
    vectors = {k: v for k, v in properties.items() if _is_embedding(k, v)}
    if 'group_id' in plain:
        plain['group_id'] = group_id
    return plain, vectors


def _vector_assignments(variable: str, keys: tuple[str, ...]) -> str:
    return ''.join(f' SET {variable}.{_identifier(k)} = vecf32(row.vectors.{_identifier(k)})' for k in keys)


async def import_group(store: GraphStore, group_id: str, document: Any) -> dict[str, int]:
    """Restore a document into `group_id`, which must be empty (an import never merges)."""
    _validate_document(document)
    graphiti = await store.graph_for(group_id)
    existing = await store.counts(group_id)
    if any(existing.get(label, 0) for label in PRIMARY_LABELS):
        raise ImportRefused(f'group {group_id} is not empty ({existing}); import only restores into an empty graph', 409)

    node_batches: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for node in document['nodes']:
        labels = tuple(_identifier(label) for label in node.get('labels') or [])
        if not labels:
            raise ImportRefused('a node has no label')
        plain, vectors = _split_properties(dict(node.get('properties') or {}), group_id)
        node_batches[(labels, tuple(sorted(vectors)))].append({'properties': plain, 'vectors': vectors})
    for (labels, vector_keys), rows in node_batches.items():
        label_text = ':'.join(labels)
        cypher = f'UNWIND $rows AS row CREATE (n:{label_text}) SET n = row.properties' + _vector_assignments('n', vector_keys)
        for start in range(0, len(rows), BATCH_SIZE):
            await graphiti.driver.execute_query(cypher, rows=rows[start:start + BATCH_SIZE])

    edge_batches: dict[tuple[str, str, str, tuple[str, ...]], list[dict[str, Any]]] = defaultdict(list)
    for edge in document['edges']:
        key_labels = (_identifier(edge.get('type')), _identifier(edge.get('source_label')), _identifier(edge.get('target_label')))
        plain, vectors = _split_properties(dict(edge.get('properties') or {}), group_id)
        edge_batches[(*key_labels, tuple(sorted(vectors)))].append(
            {'source': edge.get('source_uuid'), 'target': edge.get('target_uuid'), 'properties': plain, 'vectors': vectors}
        )
    for (edge_type, source_label, target_label, vector_keys), rows in edge_batches.items():
        cypher = (
            f'UNWIND $rows AS row MATCH (a:{source_label} {{uuid: row.source}}) MATCH (b:{target_label} {{uuid: row.target}}) '
            f'CREATE (a)-[r:{edge_type}]->(b) SET r = row.properties' + _vector_assignments('r', vector_keys)
        )
        for start in range(0, len(rows), BATCH_SIZE):
            await graphiti.driver.execute_query(cypher, rows=rows[start:start + BATCH_SIZE])
    return await store.counts(group_id)

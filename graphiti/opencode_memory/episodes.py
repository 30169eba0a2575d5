"""The episode a client asks to remember: validated once at the door, carried through the queue."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from .group_ids import resolve_group_id

EPISODE_SOURCES = ('message', 'text', 'json')
# Fixed namespace: the same (group, idempotency key) always names the same episode.
EPISODE_UUID_NAMESPACE = uuid.UUID('6f1d4c52-7c1e-4a53-9a55-0b6a3c1f2e90')
MAX_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 500


class BadRequest(ValueError):
    """The request can never succeed: answer 4xx (or dead-letter the entry) with this message."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class EpisodeRequest:
    group_id: str
    name: str
    content: str
    source: str
    source_description: str
    reference_time: str
    idempotency_key: str = ''
    session_id: str = ''

    def to_stream_fields(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items()}

    @staticmethod
    def from_stream_fields(fields: dict[str, str]) -> EpisodeRequest:
        return parse_episode_request(dict(fields), max_content_bytes=None)

    def episode_uuid(self, stream_entry_id: str) -> str:
        key = self.idempotency_key or f'stream:{stream_entry_id}'
        return str(uuid.uuid5(EPISODE_UUID_NAMESPACE, f'{self.group_id}\n{key}'))

    def reference_datetime(self) -> datetime:
        return datetime.fromisoformat(self.reference_time.replace('Z', '+00:00'))


def clean_text(value: str) -> str:
    # Lone surrogates (from JSON "\\ud800") cannot be encoded for Valkey or FalkorDB; NULs break Cypher.
    return value.encode('utf-8', 'replace').decode('utf-8').replace('\x00', '')


def _text_field(body: dict[str, Any], name: str, default: str, limit: int) -> str:
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        raise BadRequest(f'{name} must be a string')
    return clean_text(value)[:limit]


def _reference_time(value: Any) -> str:
    if value in (None, ''):
        return datetime.now(timezone.utc).isoformat()
    if not isinstance(value, str):
        raise BadRequest('reference_time must be an ISO-8601 string')
    try:
        parsed = datetime.fromisoformat(value.replace('Z', '+00:00'))
    except ValueError as error:
        raise BadRequest(f'reference_time {value[:40]!r} is not ISO-8601') from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.isoformat()


def parse_episode_request(body: Any, max_content_bytes: int | None) -> EpisodeRequest:
    if not isinstance(body, dict):
        raise BadRequest('the body must be a JSON object')
    try:
        group_id = resolve_group_id(body.get('group_id'), body.get('project_dir'))
    except ValueError as error:
        raise BadRequest(str(error)) from error
    content = body.get('content')
    if not isinstance(content, str):
        raise BadRequest('content must be a string')
    content = clean_text(content)
    if not content.strip():
        raise BadRequest('content is empty')
    size = len(content.encode('utf-8'))
    if max_content_bytes is not None and size > max_content_bytes:
        raise BadRequest(
            f'content is {size} bytes; the limit is {max_content_bytes} (MEMORY_MAX_EPISODE_BYTES)', status=413
        )
    source = _text_field(body, 'source', 'message', 20) or 'message'
    if source not in EPISODE_SOURCES:
        raise BadRequest(f'source must be one of {", ".join(EPISODE_SOURCES)}')
    return EpisodeRequest(
        group_id=group_id,
        name=_text_field(body, 'name', '', MAX_NAME_CHARS) or 'episode',
        content=content,
        source=source,
        source_description=_text_field(body, 'source_description', 'opencode', MAX_DESCRIPTION_CHARS),
        reference_time=_reference_time(body.get('reference_time')),
        idempotency_key=_text_field(body, 'idempotency_key', '', 200),
        session_id=_text_field(body, 'session_id', '', 200),
    )

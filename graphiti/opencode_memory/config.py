"""Settings, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, '').strip()
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, '').strip()
    return float(raw) if raw else default


def _optional(name: str) -> str | None:
    value = os.environ.get(name, '')
    return value or None


EX_CONFIG = 78


class SecretError(Exception):
    """A secret given both ways, or a NAME_FILE that cannot be read: one line naming the variable, never a value."""


def read_secret(name: str) -> str | None:
    """NAME, or the contents of the file NAME_FILE names (the image hands the FalkorDB and Valkey passwords on as
    files, scripts/check-secrets); trailing newlines dropped, as $(cat FILE) does."""
    value, path = os.environ.get(name, ''), os.environ.get(f'{name}_FILE', '')
    if value and path:
        raise SecretError(f'{name} and {name}_FILE are both set: give the secret one way')
    if not path:
        return value or None
    try:
        with open(path, encoding='utf-8') as handle:
            text = handle.read().rstrip('\n')
    except OSError as error:
        raise SecretError(f'{name}_FILE names {path}, which cannot be read ({type(error).__name__})') from None
    if not text.strip():
        raise SecretError(f'{name}_FILE names {path}, which is empty')
    return text


@dataclass(frozen=True)
class Settings:
    memory_host: str = '127.0.0.1'
    memory_port: int = 8765
    falkordb_host: str = 'localhost'
    falkordb_port: int = 6379
    falkordb_username: str | None = None
    falkordb_password: str | None = field(default=None, repr=False)
    valkey_host: str = 'localhost'
    valkey_port: int = 6380
    valkey_password: str | None = field(default=None, repr=False)
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    llm_model: str = 'gpt-4.1-mini'
    small_llm_model: str = 'gpt-4.1-nano'
    embedding_model: str = 'text-embedding-3-small'
    embedding_dim: int = 1024
    # 'auto' = OpenAI's Responses API client for api.openai.com, the generic chat-completions
    # client for any other OpenAI-compatible base URL (most do not implement /v1/responses).
    llm_client_kind: str = 'auto'
    stream_key: str = 'opencode-memory:episodes'
    dead_letter_key: str = 'opencode-memory:episodes:dead'
    # A dead letter holds the episode's text for an operator to inspect and replay; past this age it is deleted.
    dead_letter_max_age_seconds: float = 7 * 24 * 3600
    attempts_key: str = 'opencode-memory:episodes:attempts'
    consumer_group: str = 'memory-manager'
    consumer_name: str = 'memory-manager'
    max_attempts: int = 5
    # Episodes ingested at once, each of another project (group): one project's episodes are stored one after another,
    # in the order they were queued.
    ingest_concurrency: int = 4
    # A project's episodes waiting together are stored in one graphiti pass (add_episode_bulk), up to this many.
    ingest_batch: int = 32
    # Model calls in flight at once, every lane together (see model_gate.py); a 429 pauses them all.
    model_concurrency: int = 32
    # A search waits this long for its query's embedding, then answers by keywords (the plugin's recall budget: 300 ms).
    search_embed_timeout_seconds: float = 0.25
    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 60.0
    max_episode_bytes: int = 256 * 1024
    max_body_bytes: int = 4 * 1024 * 1024
    request_timeout_seconds: float = 120.0
    # A caller gets this long to send each part of its request (and to read the answer); then it is closed.
    connection_timeout_seconds: float = 5.0
    # Connections served at once; more are answered 503 at once, so no caller can hold every thread.
    max_connections: int = 64
    # 'indexed' (FalkorDB vector index, see graph_search.py) or 'graphiti' (graphiti-core's search_, which scans
    # every fact per query; kept to measure against).
    search_strategy: str = 'indexed'

    @staticmethod
    def from_env() -> Settings:
        return Settings(
            memory_host=os.environ.get('MEMORY_HOST', '127.0.0.1'),
            memory_port=_int('MEMORY_PORT', 8765),
            falkordb_host=os.environ.get('FALKORDB_HOST', 'localhost'),
            falkordb_port=_int('FALKORDB_PORT', 6379),
            falkordb_username=_optional('FALKORDB_USERNAME'),
            falkordb_password=read_secret('FALKORDB_PASSWORD'),
            valkey_host=os.environ.get('VALKEY_HOST', 'localhost'),
            valkey_port=_int('VALKEY_PORT', 6380),
            valkey_password=read_secret('VALKEY_PASSWORD'),
            openai_api_key=read_secret('OPENAI_API_KEY'),
            openai_base_url=_optional('OPENAI_BASE_URL'),
            llm_model=os.environ.get('GRAPHITI_LLM_MODEL') or 'gpt-4.1-mini',
            small_llm_model=os.environ.get('GRAPHITI_SMALL_LLM_MODEL') or 'gpt-4.1-nano',
            embedding_model=os.environ.get('GRAPHITI_EMBEDDING_MODEL') or 'text-embedding-3-small',
            embedding_dim=_int('GRAPHITI_EMBEDDING_DIM', 1024),
            llm_client_kind=os.environ.get('GRAPHITI_LLM_CLIENT') or 'auto',
            stream_key=os.environ.get('MEMORY_STREAM_KEY') or 'opencode-memory:episodes',
            dead_letter_key=os.environ.get('MEMORY_DEAD_LETTER_KEY') or 'opencode-memory:episodes:dead',
            dead_letter_max_age_seconds=_float('MEMORY_DEAD_LETTER_MAX_AGE_SECONDS', 7 * 24 * 3600),
            attempts_key=(os.environ.get('MEMORY_STREAM_KEY') or 'opencode-memory:episodes') + ':attempts',
            consumer_group=os.environ.get('MEMORY_CONSUMER_GROUP') or 'memory-manager',
            consumer_name=os.environ.get('MEMORY_CONSUMER_NAME') or 'memory-manager',
            max_attempts=max(1, _int('MEMORY_MAX_ATTEMPTS', 5)),
            ingest_concurrency=max(1, _int('MEMORY_INGEST_CONCURRENCY', 4)),
            ingest_batch=max(1, _int('MEMORY_INGEST_BATCH', 32)),
            model_concurrency=max(1, _int('MEMORY_MODEL_CONCURRENCY', 32)),
            search_embed_timeout_seconds=max(1, _int('MEMORY_SEARCH_EMBED_TIMEOUT_MS', 250)) / 1000,
            retry_base_seconds=_float('MEMORY_RETRY_BASE_SECONDS', 1.0),
            retry_max_seconds=_float('MEMORY_RETRY_MAX_SECONDS', 60.0),
            max_episode_bytes=_int('MEMORY_MAX_EPISODE_BYTES', 256 * 1024),
            max_body_bytes=_int('MEMORY_MAX_BODY_BYTES', 4 * 1024 * 1024),
            request_timeout_seconds=_float('MEMORY_REQUEST_TIMEOUT_SECONDS', 120.0),
            connection_timeout_seconds=_float('MEMORY_CONNECTION_TIMEOUT_SECONDS', 5.0),
            max_connections=max(1, _int('MEMORY_MAX_CONNECTIONS', 64)),
            search_strategy='graphiti' if os.environ.get('MEMORY_SEARCH', '').strip() == 'graphiti' else 'indexed',
        )

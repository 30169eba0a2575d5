"""Which failures are outages (wait and retry, forever) and which are the episode's fault (count, then dead-letter)."""

from __future__ import annotations

import asyncio

import openai
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .bootstrap import prepare_graphiti_import

prepare_graphiti_import()

from graphiti_core.llm_client.errors import RateLimitError as GraphitiRateLimitError  # noqa: E402

OUTAGE_TYPES: tuple[type[BaseException], ...] = (
    RedisConnectionError,  # FalkorDB or Valkey down, restarting or still loading its data
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    openai.APIConnectionError,  # includes APITimeoutError
    openai.RateLimitError,
    openai.InternalServerError,
    # A missing or revoked key is an operator's problem to fix, not a reason to drop memories.
    openai.AuthenticationError,
    openai.PermissionDeniedError,
    GraphitiRateLimitError,
)


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen and len(seen) < 20:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_outage(error: BaseException) -> bool:
    for link in _chain(error):
        if isinstance(link, OUTAGE_TYPES):
            return True
        if isinstance(link, openai.APIStatusError) and link.status_code >= 500:
            return True
        if isinstance(link, OSError) and not isinstance(link, FileNotFoundError):
            return True
    return False


def describe(error: BaseException) -> str:
    """One line for logs and dead letters: the type and message, never request payloads."""
    message = str(error).splitlines()[0] if str(error) else ''
    return f'{type(error).__name__}: {message[:500]}'

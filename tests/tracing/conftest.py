"""Fixtures of the tracing tests; the processes themselves are in trace_stack.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'doubles'))

from openai_compatible_server import OpenAICompatibleServer  # noqa: E402
from trace_stack import DatadogTestAgent  # noqa: E402

from tests.support.real_servers import RedisServer, falkordb_server, valkey_stand_in

EMBEDDING_DIM = 256


@pytest.fixture(scope='module')
def openai_double() -> Iterator[OpenAICompatibleServer]:
    server = OpenAICompatibleServer(dim=EMBEDDING_DIM).start()
    yield server
    server.stop()


@pytest.fixture(scope='module')
def module_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    return tmp_path_factory.mktemp(request.module.__name__.rsplit('.', 1)[-1])


def _falkordb(data_dir: Path) -> RedisServer:
    return falkordb_server(data_dir).start()


def _valkey(data_dir: Path) -> RedisServer:
    return valkey_stand_in(data_dir).start()


@pytest.fixture
def falkordb(tmp_path: Path) -> Iterator[RedisServer]:
    server = _falkordb(tmp_path / 'falkordb')
    yield server
    server.stop()


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RedisServer]:
    server = _valkey(tmp_path / 'valkey')
    yield server
    server.stop()


@pytest.fixture
def datadog_test_agent(tmp_path: Path) -> Iterator[DatadogTestAgent]:
    agent = DatadogTestAgent(tmp_path).start()
    yield agent
    agent.stop()


@pytest.fixture(scope='module')
def module_falkordb(module_dir: Path) -> Iterator[RedisServer]:
    server = _falkordb(module_dir / 'falkordb')
    yield server
    server.stop()


@pytest.fixture(scope='module')
def module_valkey(module_dir: Path) -> Iterator[RedisServer]:
    server = _valkey(module_dir / 'valkey')
    yield server
    server.stop()


@pytest.fixture(scope='module')
def module_datadog_test_agent(module_dir: Path) -> Iterator[DatadogTestAgent]:
    agent = DatadogTestAgent(module_dir).start()
    yield agent
    agent.stop()

"""Unit tests: group id derivation and validation, episode request validation."""

from __future__ import annotations

import pytest
from opencode_memory.episodes import BadRequest, EpisodeRequest, parse_episode_request
from opencode_memory.group_ids import (
    GROUP_ID_PATTERN,
    InvalidGroupId,
    group_id_for_project_dir,
    resolve_group_id,
    validate_group_id,
)

HOSTILE_DIRS = [
    '/home/me/project',
    '/home/me/project/',
    '/',
    '.',
    '../../..',
    '/tmp/a b/c d',
    '/tmp/Ünïcødé',
    '/tmp/日本語',
    "/tmp/x'; DROP GRAPH; --",
    '/tmp/new\nline',
    '/tmp/' + 'x' * 5000,
    '/tmp/-leading-dash',
    '/tmp/$(rm -rf ~)',
]


@pytest.mark.parametrize('project_dir', HOSTILE_DIRS)
def test_derived_group_ids_are_safe_and_hyphen_free(project_dir: str) -> None:
    group_id = group_id_for_project_dir(project_dir)
    assert GROUP_ID_PATTERN.match(group_id)
    assert '-' not in group_id  # graphiti's FalkorDB keyword search cannot match hyphenated ids
    assert len(group_id) <= 60


def test_group_id_is_readable_stable_and_distinct_per_path() -> None:
    assert group_id_for_project_dir('/home/me/my-app').startswith('my_app_')
    assert group_id_for_project_dir('/home/me/app') == group_id_for_project_dir('/home/me/app/')
    assert group_id_for_project_dir('/home/a/app') != group_id_for_project_dir('/home/b/app')
    assert group_id_for_project_dir('/tmp/日本語').startswith('project_')


@pytest.mark.parametrize('bad', ['', ' ', '\x00', 'a\x00b'])
def test_empty_or_nul_project_dir_is_refused(bad: str) -> None:
    with pytest.raises(InvalidGroupId):
        group_id_for_project_dir(bad)


@pytest.mark.parametrize('bad', ['../x', 'a b', 'a;b', 'é', 'a' * 129, 42, None, ['x']])
def test_explicit_group_id_must_match_the_pattern(bad: object) -> None:
    with pytest.raises(InvalidGroupId):
        validate_group_id(bad)


def test_explicit_group_id_wins_over_project_dir() -> None:
    assert resolve_group_id('team_a', '/some/dir') == 'team_a'
    with pytest.raises(InvalidGroupId):
        resolve_group_id(None, None)


def test_episode_request_validation() -> None:
    with pytest.raises(BadRequest, match='content is empty'):
        parse_episode_request({'group_id': 'g', 'content': '  '}, 100)
    with pytest.raises(BadRequest) as too_big:
        parse_episode_request({'group_id': 'g', 'content': 'é' * 60}, 100)
    assert too_big.value.status == 413
    with pytest.raises(BadRequest, match='ISO-8601'):
        parse_episode_request({'group_id': 'g', 'content': 'x', 'reference_time': 'yesterday'}, 100)
    with pytest.raises(BadRequest, match='source'):
        parse_episode_request({'group_id': 'g', 'content': 'x', 'source': 'email'}, 100)
    with pytest.raises(BadRequest):
        parse_episode_request(['not', 'an', 'object'], 100)

    request = parse_episode_request({'group_id': 'g', 'content': 'a\ud800b\x00c', 'reference_time': '2024-01-02T03:04:05Z'}, 100)
    assert request.content == 'a?bc'
    assert request.reference_time == '2024-01-02T03:04:05+00:00'
    assert EpisodeRequest.from_stream_fields(request.to_stream_fields()) == request


def test_episode_uuid_is_deterministic_per_group_and_key() -> None:
    request = parse_episode_request({'group_id': 'g', 'content': 'x'}, 100)
    assert request.episode_uuid('1-0') == request.episode_uuid('1-0')
    assert request.episode_uuid('1-0') != request.episode_uuid('2-0')
    keyed = parse_episode_request({'group_id': 'g', 'content': 'x', 'idempotency_key': 'k'}, 100)
    assert keyed.episode_uuid('1-0') == keyed.episode_uuid('2-0')

"""Secrets typed in a turn never enter memory: the detector's hit rate on real-looking keys of the common providers,
its false positives on what coding sessions are full of, `<private>` spans, and the whole path through the real
memory process (graph, queue, dead letters), which `memory_add` shares."""

from __future__ import annotations

import base64
import hashlib
import random
import string
import sys
import uuid
from pathlib import Path

import pytest
from conftest import episode_contents, graph_rows

from tests.support.real_servers import MemoryManager, RedisServer, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from opencode_memory.secret_scrub import LEFT_OUT_PLUGINS, REMOVED, scrub  # noqa: E402

_random = random.Random(20261203)


def _chars(count: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return ''.join(_random.choice(alphabet) for _ in range(count))


URL_SAFE = string.ascii_letters + string.digits + '-_'
PEM = ('-----BEGIN RSA PRIVATE KEY-----\n' + '\n'.join(_chars(64, string.ascii_letters + string.digits + '+/')
                                                       for _ in range(5)) + '\n-----END RSA PRIVATE KEY-----')
# Real-looking values in the formats the providers issue (none is a live credential).
PLANTED = {
    'OpenAI (legacy)': 'sk-' + _chars(20) + 'T3BlbkFJ' + _chars(20),
    'OpenAI (project)': 'sk-proj-' + _chars(74, URL_SAFE) + 'T3BlbkFJ' + _chars(74, URL_SAFE),
    'Anthropic': 'sk-ant-api03-' + _chars(93, URL_SAFE) + 'AA',
    'AWS access key id': 'AKIA' + _chars(16, string.ascii_uppercase + string.digits),
    'AWS secret key': 'aws_secret_access_key = "' + _chars(40, string.ascii_letters + string.digits + '/+') + '"',
    'GitHub (classic)': 'ghp_' + _chars(36),
    'GitHub (fine-grained)': 'github_pat_' + _chars(82, string.ascii_letters + string.digits + '_'),
    'GitLab': 'glpat-' + _chars(20, URL_SAFE),
    'Slack bot token': f'xoxb-{_random.randint(10**10, 10**11)}-{_random.randint(10**10, 10**11)}-{_chars(24).lower()}',
    'Slack webhook': f'https://hooks.slack.com/services/T{_chars(8).upper()}/B{_chars(8).upper()}/{_chars(24)}',
    'Stripe': 'sk_live_' + _chars(24),
    'SendGrid': 'SG.' + _chars(22, URL_SAFE) + '.' + _chars(43, URL_SAFE),
    'JWT': 'eyJhbGciOiJIUzI1NiJ9.' + base64.urlsafe_b64encode(b'{"sub":"1234567890","role":"admin"}').decode().rstrip('=')
           + '.' + _chars(43, URL_SAFE),
    'URL with password': f'postgres://app:{_chars(16)}@db.internal:5432/app',
    'private key block': PEM,
}
# What a coding session is full of and must keep.
CLEAN = [
    hashlib.sha256(b'a').hexdigest(),
    'commit 3f0086e73308d2be8371b0990233275fb0c66be5',
    str(uuid.UUID(int=_random.getrandbits(128))),
    'const icon = "' + base64.b64encode(bytes(_random.getrandbits(8) for _ in range(48))).decode() + '";',
    'integrity sha512-' + base64.b64encode(hashlib.sha512(b'b').digest()).decode(),
    'FROM node:20-slim@sha256:' + hashlib.sha256(b'c').hexdigest(),
    'api_key = os.environ["OPENAI_API_KEY"]',
    'password: ${{ secrets.DB_PASSWORD }}',
    'opencode serve --hostname 0.0.0.0 --port 4096',
    'see https://github.com/dagger/dagger/blob/v0.21.8/core/service.go#L120',
    'session ses_3f0086e7330abcdEFghIJklMNop and part prt_0123456789abABCDEFGHIJKLMN',
    'APACHE_KAFKA_VERSION=3.7.0 and the ACCOUNT_ID column',
    'export OPENAI_API_KEY=$(cat /run/secrets/openai-api-key)',
    'the token bucket refills at 10 requests/s; the password field is hashed with argon2id',
    'https://api.example.com/v1/items?limit=50&cursor=eyJwYWdlIjoyfQ',
]


def test_every_planted_provider_key_is_removed_whole_and_the_sentence_kept() -> None:
    missed = []
    for kind, value in PLANTED.items():
        result = scrub(f'Deploy notes: use {value} for staging, then restart Orion.')
        tokens = [piece for piece in value.replace('"', ' ').replace('\n', ' ').split() if len(piece) >= 12]
        if any(token in result.text for token in tokens) or result.secrets_removed == 0:
            missed.append(kind)
        assert result.text.startswith('Deploy notes: use ') and result.text.endswith(' for staging, then restart Orion.')
    hit_rate = (len(PLANTED) - len(missed)) / len(PLANTED)
    print(f'detector hit rate on planted keys: {len(PLANTED) - len(missed)}/{len(PLANTED)} ({hit_rate:.0%})')
    assert not missed, f'kept: {missed}'


def test_no_false_positive_on_hashes_uuids_base64_and_code() -> None:
    flagged = [line for line in CLEAN if scrub(line).secrets_removed]
    print(f'false positives on the clean set: {len(flagged)}/{len(CLEAN)}')
    assert not flagged


def test_the_left_out_plugins_exist_in_the_pinned_detector() -> None:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    names = {plugin.__name__ for plugin in get_mapping_from_secret_type_to_class().values()}
    assert LEFT_OUT_PLUGINS <= names, LEFT_OUT_PLUGINS - names


def test_private_spans_are_dropped_and_an_unclosed_one_drops_the_rest() -> None:
    result = scrub('keep <private>my home address</private> this <PRIVATE>and\nthat</Private> too')
    assert result.text == 'keep [private] this [private] too'
    assert (result.private_spans_removed, result.unclosed_private_span) == (2, False)
    result = scrub('keep this <private> but nothing after, ever')
    assert result.text == 'keep this [private]' and result.unclosed_private_span


@pytest.fixture
def dead_letters_expire_env(memory_env: dict[str, str]) -> dict[str, str]:
    return {**memory_env, 'MEMORY_DEAD_LETTER_MAX_AGE_SECONDS': '3'}


def test_the_memory_process_stores_and_queues_no_secret_and_no_private_span(
    memory_manager: MemoryManager, falkordb: RedisServer, valkey: RedisServer, openai_double
) -> None:
    key, pem = PLANTED['Anthropic'], PLANTED['private key block']
    memory_manager.add(group_id='scrub', content=f'user: Orion deploys with {key}. <private>Alice lives on Elm St</private>',
                       name=f'turn with {PLANTED["GitHub (classic)"]}')
    memory_manager.add(group_id='scrub', content=f'user: the signing key is\n{pem}\nkeep it safe', source_description='memory_add tool')
    memory_manager.wait_stored(2)
    stored = '\n'.join(episode_contents(falkordb, 'scrub'))
    names = '\n'.join(row[0] for row in graph_rows(falkordb, 'scrub', 'MATCH (e:Episodic) RETURN e.name'))
    assert 'Orion deploys with' in stored and REMOVED in stored
    for secret in (key, 'Alice lives on Elm St', PLANTED['GitHub (classic)'], 'PRIVATE KEY-----\n'):
        assert secret not in stored and secret not in names

    # A dead letter keeps the scrubbed text too.
    openai_double.inject_faults(status=400, count=1000)
    memory_manager.add(group_id='scrub', content=f'user: Vega uses {PLANTED["Stripe"]}.')
    wait_until(lambda: memory_manager.health()['dead_letters'] >= 1, 60, 'the episode dead-lettered')
    openai_double.inject_faults(count=0)
    client = valkey.client()
    try:
        everything = b''.join(
            b''.join(value for fields in (entry[1] for entry in client.xrange(stream)) for value in fields.values())
            for stream in (b'opencode-memory:episodes', b'opencode-memory:episodes:dead')
        )
    finally:
        client.close()
    assert b'Vega uses' in everything
    assert PLANTED['Stripe'].encode() not in everything and key.encode() not in everything


def test_an_episode_that_is_only_a_private_span_is_refused(memory_manager: MemoryManager) -> None:
    status, answer = memory_manager.request('POST', '/episodes', {'group_id': 'scrub', 'content': '<private>all of it</private>'})
    assert status == 400 and '<private>' in answer['error'], answer


def test_dead_letters_are_deleted_past_their_max_age(
    dead_letters_expire_env: dict[str, str], openai_double, tmp_path: Path
) -> None:
    manager = MemoryManager(dead_letters_expire_env, tmp_path / 'memory-manager.log').start()
    try:
        openai_double.inject_faults(status=400, count=1000)
        manager.add(group_id='expire', content='user: Lyra uses SQLite.')
        wait_until(lambda: manager.health()['dead_letters'] >= 1, 60, 'the episode dead-lettered')
        openai_double.inject_faults(count=0)
        wait_until(lambda: manager.health()['dead_letters'] == 0 or None, 30, 'the dead letter to expire')
    finally:
        manager.stop()
    assert 'older than 3 s (MEMORY_DEAD_LETTER_MAX_AGE_SECONDS)' in manager.log_text()

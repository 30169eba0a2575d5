"""OpenCode's own database in the backups, with the real `opencode serve` (1.18.33) making sessions and messages through
its HTTP API; the model behind the messages is the local OpenAI-compatible double (tests/doubles). The backups go to an
rclone `local` remote (real rclone), run through the real `backup` / `restore` command lines."""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backup_lib import opencode_db
from backup_lib.hashing import sha256_of_file
from tests.doubles.openai_compatible_server import OpenAICompatibleServer
from tests.support.opencode_server import OpencodeServer, conversation, database_path, opencode_binary, prepare_home

from .conftest import BACKUP_KEY, run_cli
from .helpers import backup_folders_on_disk, manifest_on_disk, plaintext_on_disk
from .helpers import rewrite_object as rewrite_backup_file

DB_OBJECT = opencode_db.FILE_NAME


@dataclass
class Stack:
    home: Path
    project: Path
    remote: Path
    model: OpenAICompatibleServer
    logs: Path
    servers: list[OpencodeServer]

    @property
    def database(self) -> Path:
        return database_path(self.home)

    def start_server(self) -> OpencodeServer:
        server = OpencodeServer(self.home, self.project, self.logs / f'opencode-{len(self.servers)}.log')
        self.servers.append(server)
        return server.start()

    def only_backup(self) -> Path:
        [folder] = backup_folders_on_disk(self.remote)
        return folder


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Stack]:
    for name in list(os.environ):
        if name.startswith(('B2_', 'BACKUP_', 'RCLONE_', 'OPENCODE_')):
            monkeypatch.delenv(name)
    remote = tmp_path / 'remote-bucket'
    remote.mkdir()
    home = tmp_path / 'home'
    model = OpenAICompatibleServer().start()
    project = prepare_home(home, model.base_url)
    monkeypatch.setenv('BACKUP_TARGET', 'rclone')
    monkeypatch.setenv('RCLONE_CONFIG_BACKUPDISK_TYPE', 'local')
    monkeypatch.setenv('RCLONE_CONFIG', str(tmp_path / 'no-rclone.conf'))
    monkeypatch.setenv('BACKUP_RCLONE_REMOTE', f'backupdisk:{remote}')
    monkeypatch.setenv('BACKUP_PREFIX', 'opencode-server')
    monkeypatch.setenv('BACKUP_ENCRYPTION_KEY', BACKUP_KEY)
    monkeypatch.setenv('BACKUP_PARTS', 'opencode')
    monkeypatch.setenv('OPENCODE_DB', str(database_path(home)))
    monkeypatch.setenv('OPENCODE_BIN', opencode_binary())
    logs = tmp_path / 'logs'
    logs.mkdir()
    made = Stack(home, project, remote, model, logs, [])
    try:
        yield made
    finally:
        for server in made.servers:
            server.stop()
        model.stop()


def make_sessions(server: OpencodeServer, count: int, turns: int) -> None:
    for number in range(count):
        session = server.create_session(f'session {number}: Orion planning')
        for turn in range(turns):
            server.send_message(session['id'], f'Session {number}, turn {turn}: Orion uses Postgres {number * 10 + turn}.')


def database_state(path: Path) -> tuple[str, int, list[str]]:
    """SHA-256, inode, and the names beside it: 'untouched' means all three are the same."""
    return sha256_of_file(path), path.stat().st_ino, sorted(os.listdir(path.parent))


def rewrite_object(folder: Path, mutate) -> None:
    """Changes the database file and makes the object and the manifest agree, as a backup broken at the source would be."""
    with tempfile.TemporaryDirectory() as scratch:
        rewrite_backup_file(folder, DB_OBJECT, mutate, Path(scratch))


def test_backup_while_writing_then_restore_into_a_wiped_data_dir_real_opencode_model_double(stack: Stack):
    server = stack.start_server()
    make_sessions(server, count=3, turns=2)
    fixed = conversation(server)
    writer_session = server.create_session('the writer: Vega notes')['id']
    completed: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        try:
            while not stop.is_set():
                server.send_message(writer_session, f'Vega note {len(completed)}: Vega uses Redis.')
                completed.append(1)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(completed) < 1 and thread.is_alive():
            thread.join(0.2)
        during_backup = len(completed)
        result = run_cli('backup')
        assert result.returncode == 0, result.stderr
        # the writer kept going: at least one more message completed after the backup began
        while len(completed) <= during_backup and thread.is_alive():
            thread.join(0.2)
        assert len(completed) > during_backup
    finally:
        stop.set()
        thread.join(TURN_TIMEOUT_SECONDS)
    assert not errors, errors
    final = conversation(server)

    folder = stack.only_backup()
    manifest = manifest_on_disk(folder)
    [entry] = manifest['files']
    assert entry['name'] == DB_OBJECT and entry['part'] == 'opencode' and entry['kind'] == 'sqlite'
    assert sha256_of_file(folder / f'{DB_OBJECT}.age') == entry['object_sha256']
    recorded = manifest['versions']['opencode']
    assert recorded['schema'].startswith('2026') and recorded['sessions'] == 4
    with sqlite3.connect(plaintext_on_disk(folder, DB_OBJECT, stack.home.parent / 'backup-copy.db')) as copy:
        assert copy.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
        assert copy.execute('PRAGMA journal_mode').fetchone()[0] == 'delete'  # one self-contained file

    server.stop()
    shutil.rmtree(stack.database.parent)
    result = run_cli('restore', '--only', 'opencode')
    assert result.returncode == 0, result.stderr
    assert 'passes integrity_check' in result.stdout

    restored = conversation(stack.start_server())
    assert set(restored) == set(fixed) | {writer_session}
    for session_id, session in fixed.items():
        assert restored[session_id] == session  # titles, roles and texts, in order
    assert sum(len(turns) for _, turns in restored.values()) == recorded['messages']
    # the writer's session as of the backup: a prefix of what it became (the last reply may have been mid-stream)
    _, restored_turns = restored[writer_session]
    _, final_turns = final[writer_session]
    assert 0 < len(restored_turns) <= len(final_turns)
    for (role, text), (final_role, final_text) in zip(restored_turns, final_turns):
        assert role == final_role and final_text.startswith(text)
    assert restored_turns[:-1] == final_turns[: len(restored_turns) - 1]


TURN_TIMEOUT_SECONDS = 150


@pytest.mark.parametrize('damage', ['truncated in storage', 'truncated at the source', 'corrupted at the source'])
def test_restore_refuses_a_damaged_database_object_before_touching_anything_real_opencode(stack: Stack, damage: str):
    server = stack.start_server()
    make_sessions(server, count=2, turns=1)
    assert run_cli('backup').returncode == 0
    server.stop()
    folder = stack.only_backup()
    size = manifest_on_disk(folder)['files'][0]['size']
    if damage == 'truncated in storage':
        stored = folder / f'{DB_OBJECT}.age'
        os.truncate(stored, stored.stat().st_size // 2)
    elif damage == 'truncated at the source':
        rewrite_object(folder, lambda path: os.truncate(path, size // 2))
    else:
        def scribble(path: Path) -> None:
            with open(path, 'r+b') as stream:
                for page_start in range(4096, size, 4096 * 2):  # every other page after the header page
                    stream.seek(page_start + 100)
                    stream.write(os.urandom(512))
        rewrite_object(folder, scribble)
    before = database_state(stack.database)

    result = run_cli('restore', '--only', 'opencode', '--replace')

    assert result.returncode == 1
    expected = 'does not match the manifest' if damage == 'truncated in storage' else 'integrity_check|not a readable'
    assert any(word in result.stderr for word in expected.split('|')), result.stderr
    assert 'nothing was restored' in result.stderr or 'does not match' in result.stderr
    assert database_state(stack.database) == before


def test_restore_refused_while_a_server_holds_the_database_real_opencode(stack: Stack):
    server = stack.start_server()
    make_sessions(server, count=2, turns=1)
    assert run_cli('backup').returncode == 0
    server.send_message(server.sessions()[0]['id'], 'A message after the backup: Orion moves to Lyra.')
    before_api = conversation(server)
    before_files = sorted(os.listdir(stack.database.parent))
    inode = stack.database.stat().st_ino

    result = run_cli('restore', '--only', 'opencode', '--replace')

    assert result.returncode == 1
    assert 'stop the OpenCode server' in result.stderr and str(stack.database) in result.stderr
    assert f'pid {server.process.pid}' in result.stderr, result.stderr
    assert 'nothing was restored' in result.stderr
    assert stack.database.stat().st_ino == inode
    assert sorted(os.listdir(stack.database.parent)) == before_files
    assert conversation(server) == before_api


def test_restore_refuses_a_backup_from_a_newer_opencode_schema_naming_both_real_opencode(stack: Stack):
    server = stack.start_server()
    make_sessions(server, count=1, turns=1)
    assert run_cli('backup').returncode == 0
    server.stop()
    folder = stack.only_backup()
    with sqlite3.connect(plaintext_on_disk(folder, DB_OBJECT, stack.home.parent / 'backup-copy.db')) as copy:
        [image_schema] = copy.execute('SELECT max(id) FROM migration').fetchone()

    def from_the_future(path: Path) -> None:
        with sqlite3.connect(path) as connection:
            connection.execute("INSERT INTO migration VALUES ('29991231000000_from_the_future', 0)")
        connection.close()

    rewrite_object(folder, from_the_future)
    before = database_state(stack.database)

    result = run_cli('restore', '--only', 'opencode', '--replace')

    assert result.returncode == 1
    assert '29991231000000_from_the_future' in result.stderr and image_schema in result.stderr, result.stderr
    assert 'newer' in result.stderr
    assert database_state(stack.database) == before


def test_restore_replaces_an_existing_database_only_with_replace_and_clears_what_it_set_aside(stack: Stack):
    server = stack.start_server()
    make_sessions(server, count=1, turns=1)
    backed_up = conversation(server)
    assert run_cli('backup').returncode == 0
    server.create_session('made after the backup')
    server.stop()

    refused = run_cli('restore', '--only', 'opencode')
    assert refused.returncode == 1 and '--replace' in refused.stderr

    result = run_cli('restore', '--only', 'opencode', '--replace')
    assert result.returncode == 0, result.stderr
    assert 'kept aside' in result.stdout
    assert not [name for name in os.listdir(stack.database.parent) if '.replaced-' in name or '.restoring-' in name]
    assert conversation(stack.start_server()) == backed_up


def test_lock_probe_sees_a_holder_the_proc_scan_cannot_see(tmp_path: Path):
    """Another container on the same volume is invisible in this /proc, but its SQLite connection holds the WAL-index
    lock that the probe tries to take."""
    database = tmp_path / 'opencode.db'
    holder = sqlite3.connect(database)
    holder.execute('PRAGMA journal_mode=WAL')
    holder.execute('CREATE TABLE t (x)')
    holder.commit()
    import subprocess
    import sys
    probe = [sys.executable, '-c',
             'import sys; sys.path.insert(0, sys.argv[1]); from backup_lib import opencode_db; from pathlib import Path;'
             ' print(opencode_db._lock_holder(Path(sys.argv[2])))',
             str(Path(__file__).resolve().parents[2] / 'scripts'), str(database)]
    held = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert 'holds SQLite' in held.stdout, held.stdout + held.stderr
    holder.close()
    free = subprocess.run(probe, capture_output=True, text=True, timeout=60)
    assert free.stdout.strip() == 'None', free.stdout + free.stderr

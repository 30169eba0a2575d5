import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from b2sdk.v2 import B2Api, B2HttpApiConfig, InMemoryAccountInfo, RawSimulator

from tests.support.real_servers import RedisServer

from .servers import start_falkordb, start_valkey_stand_in

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
MEMORY_MANAGER = REPO / "graphiti" / "memory_manager.py"
CLI_TIMEOUT_SECONDS = 300
FALKORDB_PASSWORD = "falkor-secret-pw-1"
VALKEY_PASSWORD = "valkey-secret-pw-2"
B2_KEY_ID_NAME = "B2_APPLICATION_KEY_ID"
# made with `scripts/backup --new-key` for these tests only
BACKUP_KEY = "AGE-SECRET-KEY-14VF5MVRNNCQ63DD55L0E7UFWRVYXN9K64ETJM00V7XXFZYV8RN4QET552H"
BACKUP_KEY_RECIPIENT = "age12fthfqdf8rjwrqv4rz3ufdj5rkyjv8sh797d748d7jyhcw99ypjq00ze20"

sys.path.insert(0, str(SCRIPTS))


@dataclass
class Servers:
    falkordb: RedisServer
    valkey: RedisServer

    def valkey_db(self, db: int):
        return self.valkey.client(db)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    falkordb = start_falkordb(tmp_path / "falkordb", FALKORDB_PASSWORD)
    try:
        valkey = start_valkey_stand_in(tmp_path / "valkey", VALKEY_PASSWORD)
    except BaseException:
        falkordb.stop()
        raise
    try:
        yield Servers(falkordb, valkey)
    finally:
        valkey.stop()
        falkordb.stop()


@pytest.fixture
def backup_env(monkeypatch: pytest.MonkeyPatch, servers: Servers) -> Servers:
    for name in list(os.environ):
        if name.startswith(("B2_", "BACKUP_", "RCLONE_", "FALKORDB_", "VALKEY_", "MEMORY_", "OPENCODE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FALKORDB_HOST", "127.0.0.1")
    monkeypatch.setenv("FALKORDB_PORT", str(servers.falkordb.port))
    monkeypatch.setenv("FALKORDB_PASSWORD", FALKORDB_PASSWORD)
    monkeypatch.setenv("VALKEY_HOST", "127.0.0.1")
    monkeypatch.setenv("VALKEY_PORT", str(servers.valkey.port))
    monkeypatch.setenv("VALKEY_PASSWORD", VALKEY_PASSWORD)
    monkeypatch.setenv("BACKUP_PREFIX", "opencode-server")
    monkeypatch.setenv("BACKUP_ENCRYPTION_KEY", BACKUP_KEY)
    monkeypatch.setenv("MEMORY_MANAGER", str(MEMORY_MANAGER))
    monkeypatch.setenv("MEMORY_MANAGER_PYTHON", sys.executable)
    # The memory stores' suites; OpenCode's database has its own (test_opencode_db.py, with a real opencode server).
    monkeypatch.setenv("BACKUP_PARTS", "falkordb,valkey,graphiti")
    if not MEMORY_MANAGER.is_file():
        # the Graphiti export needs the memory manager; the rest is tested without it
        monkeypatch.setenv("BACKUP_PARTS", "falkordb,valkey")
    return servers


class CutOffRawSimulator(RawSimulator):
    """b2sdk's simulator whose connection dies for good after `uploads_before_cut` uploads (files or parts)."""

    uploads_before_cut: int | None = None

    def _maybe_cut(self) -> None:
        if self.uploads_before_cut is not None:
            if self.uploads_before_cut <= 0:
                from b2sdk.v2.exception import B2ConnectionError

                raise B2ConnectionError("connection reset by peer (test cut-off)")
            self.uploads_before_cut -= 1

    def upload_file(self, *args, **kwargs):
        self._maybe_cut()
        return super().upload_file(*args, **kwargs)

    def upload_part(self, *args, **kwargs):
        self._maybe_cut()
        return super().upload_part(*args, **kwargs)


@dataclass
class B2Simulator:
    raw: CutOffRawSimulator
    bucket_name: str
    key_id: str
    key: str

    def factory(self) -> B2Api:
        """A fresh B2Api (as a new process would build) talking to the one shared simulated B2."""
        return B2Api(InMemoryAccountInfo(), api_config=B2HttpApiConfig(_raw_api_class=lambda _http: self.raw))

    def admin_bucket(self):
        api = self.factory()
        api.authorize_account("production", self.key_id, self.key)
        return api.get_bucket_by_name(self.bucket_name)

    def stored_names(self) -> list[str]:
        return sorted(version.file_name for version, _ in self.admin_bucket().ls("", recursive=True))

    def file_simulator(self, name: str):
        bucket = self.raw.bucket_name_to_bucket[self.bucket_name]
        return next(sim for (file_name, _), sim in bucket.file_name_and_id_to_file.items() if file_name == name)


@pytest.fixture
def b2_simulator(monkeypatch: pytest.MonkeyPatch, backup_env: Servers) -> B2Simulator:
    raw = CutOffRawSimulator()
    key_id, key = raw.create_account()
    simulator = B2Simulator(raw, "opencode-backups", key_id, key)
    api = simulator.factory()
    api.authorize_account("production", key_id, key)
    api.create_bucket(simulator.bucket_name, "allPrivate")
    monkeypatch.setenv("BACKUP_TARGET", "b2")
    monkeypatch.setenv(B2_KEY_ID_NAME, key_id)
    monkeypatch.setenv("B2_APPLICATION_KEY", key)
    monkeypatch.setenv("B2_BUCKET", simulator.bucket_name)
    return simulator


@pytest.fixture
def rclone_local_remote(monkeypatch: pytest.MonkeyPatch, backup_env: Servers, tmp_path: Path) -> Path:
    """An rclone `local` remote configured only from the environment; returns its root folder on disk."""
    root = tmp_path / "remote-bucket"
    root.mkdir()
    monkeypatch.setenv("BACKUP_TARGET", "rclone")
    monkeypatch.setenv("RCLONE_CONFIG_BACKUPDISK_TYPE", "local")
    monkeypatch.setenv("RCLONE_CONFIG", str(tmp_path / "no-rclone.conf"))
    monkeypatch.setenv("BACKUP_RCLONE_REMOTE", f"backupdisk:{root}")
    return root


def run_cli(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real command line, as cron or an operator runs it."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        env=env if env is not None else dict(os.environ),
        stdin=subprocess.DEVNULL,
    )



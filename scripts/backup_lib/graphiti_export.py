"""The portable copy of the memory: the memory manager's own JSON export, one file per Graphiti group.

Graphiti on FalkorDB keeps each group in its own graph named after the group id, so "all groups" is GRAPH.LIST.
"""
import re
import subprocess
from pathlib import Path

import redis

from .config import RedisEndpoint, Settings
from .errors import BackupError
from .redaction import redact

GROUP_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_CLI_TIMEOUT_SECONDS = 3600


def list_groups(falkordb: RedisEndpoint) -> list[str]:
    try:
        names = falkordb.client().execute_command("GRAPH.LIST")
    except redis.RedisError as error:
        raise BackupError(f"falkordb: GRAPH.LIST failed: {error}") from None
    groups = (name.decode() if isinstance(name, bytes) else str(name) for name in names)
    return sorted(group for group in groups if GROUP_ID.match(group))


def export_file_name(group: str) -> str:
    return f"graphiti/{group}.json"


def _run_memory_manager(settings: Settings, args: list[str], what: str) -> None:
    if not Path(settings.memory_manager).is_file():
        raise BackupError(f"the memory manager {settings.memory_manager} is missing (set MEMORY_MANAGER), cannot {what}")
    try:
        result = subprocess.run(
            [settings.memory_manager_python, settings.memory_manager, *args],
            env=dict(settings.environ),
            capture_output=True,
            text=True,
            timeout=_CLI_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise BackupError(f"memory manager did not {what} within {_CLI_TIMEOUT_SECONDS} s") from None
    if result.returncode != 0:
        detail = redact((result.stderr.strip() or result.stdout.strip())[-2000:], settings.environ)
        raise BackupError(f"memory manager could not {what} (exit {result.returncode}): {detail}")


def export_group(settings: Settings, group: str, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    _run_memory_manager(settings, ["export", "--group", group, "--out", str(destination)], f"export group {group}")
    if not destination.is_file():
        raise BackupError(f"memory manager export of group {group} wrote no file")


def import_group(settings: Settings, group: str, source: Path) -> None:
    _run_memory_manager(settings, ["import", "--group", group, str(source)], f"import group {group}")


def graph_node_count(falkordb: RedisEndpoint, group: str) -> int:
    client = falkordb.client()
    try:
        if not client.exists(group):
            return 0
        reply = client.execute_command("GRAPH.RO_QUERY", group, "MATCH (n) RETURN count(n)")
    except redis.RedisError as error:
        raise BackupError(f"falkordb: cannot read graph {group}: {error}") from None
    return int(reply[1][0][0])


def delete_graph(falkordb: RedisEndpoint, group: str) -> None:
    client = falkordb.client()
    try:
        if client.exists(group):
            client.execute_command("GRAPH.DELETE", group)
    except redis.RedisError as error:
        raise BackupError(f"falkordb: cannot delete graph {group}: {error}") from None



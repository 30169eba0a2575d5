"""What backup and restore need from a remote store; b2sdk and rclone each implement it."""
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    description: str  # for messages: never contains a secret

    def list_names(self, prefix: str) -> list[str]:
        """Every object name under `prefix/` (including uploads that never finished, where the store keeps them)."""

    def exists(self, name: str) -> bool: ...

    def upload(self, local_path: Path, name: str, sha1: str) -> None:
        """Store a new object; must fail rather than replace an existing one."""

    def stored_sha1(self, name: str) -> str:
        """The SHA-1 of the object as the store holds it (from the store's own hash, or by reading it back)."""

    def download(self, name: str, local_path: Path) -> None: ...

    def delete_tree(self, prefix: str) -> None:
        """Remove every object (and every version of it, and unfinished uploads) under `prefix/`."""

import json
from pathlib import Path

import pyrage
from pyrage import x25519

from .conftest import BACKUP_KEY, Servers
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


def decrypt(data: bytes, key: str = BACKUP_KEY) -> bytes:
    return pyrage.decrypt(data, [x25519.Identity.from_str(key)])


def manifest_on_disk(folder: Path) -> dict:
    return json.loads(decrypt((folder / "manifest.json.age").read_bytes()))


def backup_key():
    from backup_lib.encryption import BackupKey

    return BackupKey(x25519.Identity.from_str(BACKUP_KEY))


def write_manifest_on_disk(folder: Path, manifest: dict) -> None:
    """Seals `manifest` with the test key, as a backup made with it (or broken at its source) would hold it."""
    from backup_lib.manifest import seal_manifest

    (folder / "manifest.json.age").write_bytes(seal_manifest(manifest, backup_key()))


def plaintext_on_disk(folder: Path, name: str, destination: Path) -> Path:
    destination.write_bytes(decrypt((folder / f"{name}.age").read_bytes()))
    return destination


def rewrite_object(folder: Path, name: str, mutate, scratch: Path) -> None:
    """Changes a file of the backup and makes the encrypted object and the sealed manifest agree with it: a backup
    broken at its source, which only the checks after decryption can catch."""
    from backup_lib.hashing import sha256_of_file

    plain = plaintext_on_disk(folder, name, scratch / Path(name).name)
    mutate(plain)
    stored = folder / f"{name}.age"
    stored.write_bytes(pyrage.encrypt(plain.read_bytes(), [backup_key().identity.to_public()]))
    manifest = manifest_on_disk(folder)
    for entry in manifest["files"]:
        if entry["name"] == name:
            entry.update(size=plain.stat().st_size, sha256=sha256_of_file(plain), object_size=stored.stat().st_size,
                         object_sha256=sha256_of_file(stored))
    write_manifest_on_disk(folder, manifest)

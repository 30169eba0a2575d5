"""The manifest lists every object of a backup with the size and SHA-256 of the plaintext and of the encrypted object.
It is uploaded last (its presence marks the backup complete), encrypted like every object, and carries an HMAC-SHA256
over its canonical JSON under a key derived from the encryption identity: without the identity nobody can write one
that restore or retention accepts, and its timestamp must be the folder's, so a copy under another date is refused."""
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass

from .encryption import BackupKey, decrypt_bytes, encrypt_bytes
from .errors import BackupError, VerificationError

MANIFEST_FORMAT = "opencode-server-backup/2"
LEGACY_MANIFEST_FORMAT = "opencode-server-backup/1"  # plaintext objects, SHA-1, unauthenticated: never restored
_MAC_FIELD = "mac"


@dataclass(frozen=True)
class ManifestFile:
    name: str  # the plaintext file, relative to the backup folder (what restore loads)
    object: str  # the encrypted object on the remote, relative to the backup folder (name + ".age")
    part: str  # falkordb, valkey, graphiti or opencode
    kind: str  # rdb, keys, graphiti-export or sqlite
    size: int  # of the plaintext
    sha256: str  # of the plaintext
    object_size: int
    object_sha256: str  # of the encrypted object, checked before it is decrypted


def build_manifest(
    *,
    timestamp: str,
    started_at: str,
    finished_at: str,
    files: list[ManifestFile],
    versions: dict[str, object],
    groups: list[str],
    key_counts: dict[str, int],
    recipient: str,
) -> dict[str, object]:
    return {
        "format": MANIFEST_FORMAT,
        "timestamp": timestamp,
        "started_at": started_at,
        "finished_at": finished_at,
        "encryption": {"scheme": "age-x25519", "recipient": recipient},
        "versions": versions,
        "graphiti_groups": groups,
        "key_counts": key_counts,
        "files": [asdict(file) for file in files],
    }


def _canonical(manifest: dict[str, object]) -> bytes:
    body = {name: value for name, value in manifest.items() if name != _MAC_FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def _mac(key: BackupKey, manifest: dict[str, object]) -> str:
    return hmac.new(key.manifest_mac_key(), _canonical(manifest), hashlib.sha256).hexdigest()


def seal_manifest(manifest: dict[str, object], key: BackupKey) -> bytes:
    """The manifest as stored: authenticated, then encrypted."""
    sealed = dict(manifest, **{_MAC_FIELD: _mac(key, manifest)})
    return encrypt_bytes(key, (json.dumps(sealed, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def open_manifest(data: bytes, keys: list[BackupKey], timestamp: str) -> tuple[dict, list[ManifestFile], BackupKey]:
    """Decrypt, authenticate and check a stored manifest for the backup folder `timestamp`; every refusal is one line
    that says why, and is raised before any object is downloaded."""
    if not keys:
        raise BackupError(f"backup {timestamp}: no key to read it with (set BACKUP_ENCRYPTION_KEY)")
    opened = decrypt_bytes(keys, data)
    if opened is None:
        raise VerificationError(
            f"backup {timestamp}: its manifest does not decrypt with BACKUP_ENCRYPTION_KEY or BACKUP_ENCRYPTION_OLD_KEYS"
            " (made with another key, or altered or truncated)"
        )
    key, plaintext = opened
    try:
        manifest = json.loads(plaintext)
        claimed = manifest[_MAC_FIELD]
    except (ValueError, KeyError, TypeError):
        raise VerificationError(f"backup {timestamp}: its manifest is malformed (no authenticated JSON)") from None
    if not isinstance(claimed, str) or not hmac.compare_digest(claimed, _mac(key, manifest)):
        raise VerificationError(f"backup {timestamp}: its manifest fails authentication (altered or forged)")
    if manifest.get("format") != MANIFEST_FORMAT:
        raise VerificationError(f"backup {timestamp}: manifest format {manifest.get('format')!r} is not {MANIFEST_FORMAT}")
    if manifest.get("timestamp") != timestamp:
        raise VerificationError(
            f"backup {timestamp}: its manifest belongs to backup {manifest.get('timestamp')} (copied under another date)"
        )
    try:
        files = [ManifestFile(**entry) for entry in manifest["files"]]
    except (KeyError, TypeError) as error:
        raise VerificationError(f"backup {timestamp}: manifest file list is malformed: {error}") from None
    for file in files:
        for name in (file.name, file.object):
            if ".." in name.split("/") or name.startswith("/"):
                raise VerificationError(f"backup {timestamp}: manifest names an unsafe path {name!r}")
    return manifest, files, key

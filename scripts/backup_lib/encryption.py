"""Every backup object is encrypted with age (pyrage, the Rust `age` crate) to an X25519 identity before it leaves the
machine, and the manifest is authenticated with a key derived from that identity.

Keys: BACKUP_ENCRYPTION_KEY (or _FILE) holds one `AGE-SECRET-KEY-1…` identity (an age-keygen file, comments and all,
is accepted); backups are encrypted to it and restores decrypt with it. BACKUP_ENCRYPTION_OLD_KEYS (or _FILE) holds
earlier identities, one per line or comma-separated: restore only, never used to encrypt. Rotation: move the current
key to the old keys, set a new current key; once every backup made with the old key has aged out of retention, drop it.
"""
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyrage
from pyrage import x25519

from .errors import BackupError, ConfigError
from .secret_env import read_secret

KEY_NAME = "BACKUP_ENCRYPTION_KEY"
OLD_KEYS_NAME = "BACKUP_ENCRYPTION_OLD_KEYS"
ENCRYPTED_SUFFIX = ".age"
_MANIFEST_MAC_LABEL = b"opencode-server-backup manifest HMAC-SHA256 v1"


def _identities(text: str, name: str) -> list[x25519.Identity]:
    found = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):  # age-keygen writes "# created: …" and "# public key: …" lines
            continue
        for candidate in (piece.strip() for piece in line.split(",")):
            if not candidate:
                continue
            try:
                found.append(x25519.Identity.from_str(candidate))
            except (pyrage.IdentityError, ValueError):
                raise ConfigError(
                    f"{name} is not an age X25519 identity (AGE-SECRET-KEY-1…, 74 characters); make one with "
                    "`backup --new-key`"
                ) from None
    return found


@dataclass(frozen=True)
class BackupKey:
    identity: x25519.Identity = field(repr=False)

    @property
    def recipient(self) -> str:
        """The public half (age1…): names the key in messages, never secret."""
        return str(self.identity.to_public())

    def manifest_mac_key(self) -> bytes:
        """HKDF-SHA256 (RFC 5869, one block) of the identity with a fixed label: a key of its own for the HMAC, so
        the identity is never used directly for two purposes."""
        prk = hmac.new(_MANIFEST_MAC_LABEL, str(self.identity).encode("ascii"), hashlib.sha256).digest()
        return hmac.new(prk, b"manifest\x01", hashlib.sha256).digest()


@dataclass(frozen=True)
class BackupKeys:
    current: BackupKey | None
    old: tuple[BackupKey, ...]

    def all(self) -> list[BackupKey]:
        return ([self.current] if self.current else []) + list(self.old)

    def require_current(self, program: str) -> BackupKey:
        if self.current is None:
            raise ConfigError(
                f"{KEY_NAME} (or {KEY_NAME}_FILE) is not set: {program} needs the backup encryption key "
                "(make one with `backup --new-key`)"
            )
        return self.current


def load_keys(environ: Mapping[str, str]) -> BackupKeys:
    current_text = read_secret(environ, KEY_NAME)
    current = None
    if current_text is not None:
        identities = _identities(current_text, KEY_NAME)
        if len(identities) != 1:
            raise ConfigError(f"{KEY_NAME} must hold exactly one age identity, found {len(identities)}")
        current = BackupKey(identities[0])
    old_text = read_secret(environ, OLD_KEYS_NAME)
    old = tuple(BackupKey(identity) for identity in _identities(old_text, OLD_KEYS_NAME)) if old_text else ()
    return BackupKeys(current, old)


def new_key_text() -> str:
    """An age-keygen style key file: what `backup --new-key` prints."""
    identity = x25519.Identity.generate()
    return f"# public key: {identity.to_public()}\n{identity}\n"


def encrypt_file(key: BackupKey, source: Path, destination: Path) -> None:
    try:
        pyrage.encrypt_file(str(source), str(destination), [key.identity.to_public()])
    except pyrage.EncryptError as error:
        raise BackupError(f"encryption of {source.name} failed: {error}") from None


def decrypt_file(key: BackupKey, source: Path, destination: Path, what: str) -> None:
    try:
        pyrage.decrypt_file(str(source), str(destination), [key.identity])
    except (pyrage.DecryptError, ValueError, OSError) as error:
        destination.unlink(missing_ok=True)
        raise BackupError(f"{what} does not decrypt with the key that authenticated the manifest ({error}); "
                          "nothing was restored") from None


def decrypt_bytes(keys: list[BackupKey], data: bytes) -> tuple[BackupKey, bytes] | None:
    """The first key that decrypts `data`, with the plaintext; None when none does (another key, or not age)."""
    for key in keys:
        try:
            return key, pyrage.decrypt(data, [key.identity])
        except (pyrage.DecryptError, ValueError):
            continue
    return None


def encrypt_bytes(key: BackupKey, data: bytes) -> bytes:
    return pyrage.encrypt(data, [key.identity.to_public()])

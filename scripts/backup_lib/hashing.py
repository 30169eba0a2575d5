import hashlib
from pathlib import Path

_CHUNK = 1024 * 1024


def sha1_of_file(path: Path) -> str:
    """Only for the upload check against B2's own content SHA-1 (the one hash B2 keeps); integrity is SHA-256."""
    digest = hashlib.sha1()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

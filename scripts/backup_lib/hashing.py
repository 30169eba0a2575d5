import hashlib
from pathlib import Path

_CHUNK = 1024 * 1024


def sha1_of_file(path: Path) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()

"""Backblaze B2 through b2sdk. Tests hand in a B2Api built on b2sdk's RawSimulator through `api_factory`."""
import hashlib
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from b2sdk.v2 import B2Api, InMemoryAccountInfo
from b2sdk.v2.exception import B2Error, FileNotPresent, NonExistentBucket, Unauthorized

from .errors import BackupError

B2ApiFactory = Callable[[], B2Api]
_SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")


def default_api_factory() -> B2Api:
    return B2Api(InMemoryAccountInfo())


class B2Storage:
    def __init__(self, environ: Mapping[str, str], api_factory: B2ApiFactory | None = None):
        key_id = environ.get("B2_APPLICATION_KEY_ID")
        key = environ.get("B2_APPLICATION_KEY")
        bucket_name = environ.get("B2_BUCKET")
        missing = [
            name
            for name, value in (("B2_APPLICATION_KEY_ID", key_id), ("B2_APPLICATION_KEY", key), ("B2_BUCKET", bucket_name))
            if not value
        ]
        if missing:
            raise BackupError(f"B2 target needs {', '.join(missing)} in the environment")
        self.description = f"B2 bucket {bucket_name}"
        self._api = (api_factory or default_api_factory)()
        try:
            self._api.authorize_account("production", key_id, key)
        except Unauthorized:
            raise BackupError("B2 refused the application key (B2_APPLICATION_KEY_ID / B2_APPLICATION_KEY)") from None
        except B2Error as error:
            raise BackupError(f"B2 authorization failed: {type(error).__name__}: {error}") from None
        try:
            self._bucket = self._api.get_bucket_by_name(bucket_name)
        except NonExistentBucket:
            raise BackupError(f"B2 bucket {bucket_name!r} does not exist or the key may not use it") from None
        except B2Error as error:
            raise BackupError(f"B2 bucket {bucket_name!r} could not be opened: {type(error).__name__}: {error}") from None

    def list_names(self, prefix: str) -> list[str]:
        folder = prefix.strip("/") + "/" if prefix.strip("/") else ""
        names = {version.file_name for version, _ in self._bucket.ls(folder, latest_only=False, recursive=True)}
        # an upload cut off mid large file leaves parts that ls does not show but B2 still bills
        names |= {large.file_name for large in self._bucket.list_unfinished_large_files(prefix=folder)}
        return sorted(names)

    def exists(self, name: str) -> bool:
        try:
            self._bucket.get_file_info_by_name(name)
        except FileNotPresent:
            return False
        return True

    def upload(self, local_path: Path, name: str, sha1: str) -> None:
        if self.exists(name):
            raise BackupError(f"refusing to overwrite existing object {name}")
        try:
            self._bucket.upload_local_file(str(local_path), name, sha1_sum=sha1)
        except B2Error as error:
            raise BackupError(f"upload of {name} failed: {type(error).__name__}: {error}") from None

    def stored_sha1(self, name: str) -> str:
        try:
            info = self._bucket.get_file_info_by_name(name)
        except FileNotPresent:
            raise BackupError(f"{name} is not in the bucket") from None
        # B2 checks a small file's SHA-1 on upload and reports it; a large file only has per-part
        # checks (its content_sha1 is "none" or what the client claimed), so read it back
        if _SHA1_HEX.match(info.content_sha1 or "") and getattr(info, "content_sha1_verified", True):
            return info.content_sha1
        digest = hashlib.sha1()
        downloaded = self._bucket.download_file_by_name(name)
        with downloaded.response as response:
            for chunk in response.iter_content(chunk_size=1024 * 1024):
                digest.update(chunk)
        return digest.hexdigest()

    def download(self, name: str, local_path: Path) -> None:
        try:
            self._bucket.download_file_by_name(name).save_to(str(local_path))
        except FileNotPresent:
            raise BackupError(f"{name} is not in the bucket") from None
        except B2Error as error:
            raise BackupError(f"download of {name} failed: {type(error).__name__}: {error}") from None

    def delete_tree(self, prefix: str) -> None:
        folder = prefix.strip("/") + "/"
        for large in self._bucket.list_unfinished_large_files(prefix=folder):
            self._bucket.cancel_large_file(large.file_id)
        for version, _ in self._bucket.ls(folder, latest_only=False, recursive=True):
            self._bucket.delete_file_version(version.id_, version.file_name)

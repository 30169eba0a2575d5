from .config import Settings
from .storage import Storage
from .storage_b2 import B2ApiFactory, B2Storage
from .storage_rclone import RcloneStorage


def open_storage(settings: Settings, b2_api_factory: B2ApiFactory | None = None) -> Storage:
    if settings.target == "rclone":
        return RcloneStorage(settings.environ)
    return B2Storage(settings.environ, api_factory=b2_api_factory)

"""Where a backup's objects live: `<prefix>/<UTC timestamp>/<file>`, with `manifest.json.age` as the completion marker."""
import datetime as dt
import re

MANIFEST_NAME = "manifest.json.age"
LEGACY_MANIFEST_NAME = "manifest.json"  # unencrypted backups of earlier versions (format /1)
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"  # sorts lexically in time order; no ':' so it is safe on every remote
_TIMESTAMP_PATTERN = re.compile(r"^\d{8}T\d{6}\.\d{3}Z$")


def new_timestamp(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.timezone.utc)
    # milliseconds: two backups in the same second still get distinct prefixes
    return now.astimezone(dt.timezone.utc).strftime(TIMESTAMP_FORMAT)[:-4] + "Z"


def parse_timestamp(timestamp: str) -> dt.datetime | None:
    if not _TIMESTAMP_PATTERN.match(timestamp):
        return None
    return dt.datetime.strptime(timestamp[:-1] + "000Z", TIMESTAMP_FORMAT).replace(tzinfo=dt.timezone.utc)


def backup_dir(prefix: str, timestamp: str) -> str:
    return f"{prefix.strip('/')}/{timestamp}" if prefix.strip("/") else timestamp


def split_backup_object(prefix: str, object_name: str) -> tuple[str, str] | None:
    """`<prefix>/<ts>/<rest>` → (ts, rest); None for anything that is not inside a backup folder."""
    root = prefix.strip("/")
    relative = object_name[len(root) + 1 :] if root else object_name
    if root and not object_name.startswith(root + "/"):
        return None
    timestamp, _, rest = relative.partition("/")
    if not rest or parse_timestamp(timestamp) is None:
        return None
    return timestamp, rest

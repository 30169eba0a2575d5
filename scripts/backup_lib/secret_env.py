"""Every backup secret may be given as NAME or as NAME_FILE (a path whose content is the value, the official database
images' convention, so a Kubernetes Secret can be mounted as a file instead of sitting in the environment).

Both set, or a file that is missing, unreadable or empty: one line naming the variable (never the
value) and exit 78 before anything is touched. Every value read is registered with `redaction`, so it is scrubbed
from every message even when it came from a file and never was in the environment."""
from collections.abc import Mapping

from .errors import ConfigError
from .redaction import register_secret

# The secrets the backup and restore read. BACKUP_RCLONE_REMOTE is one because an rclone connection string
# (`:b2,account=…,key=…:bucket`) carries credentials. RCLONE_CONFIG_* are rclone's own variables and are not widened
# here: RCLONE_CONFIG_<REMOTE>_KEY_FILE is a real rclone option (sftp's key file), not a secret-file indirection.
SECRET_NAMES = (
    "B2_APPLICATION_KEY_ID",
    "B2_APPLICATION_KEY",
    "FALKORDB_PASSWORD",
    "VALKEY_PASSWORD",
    "BACKUP_RCLONE_REMOTE",
    "BACKUP_ENCRYPTION_KEY",
    "BACKUP_ENCRYPTION_OLD_KEYS",
)


# Printed in messages once its connection-string parameters are redacted (rclone_remote registers those values), so
# the whole value is not registered: `backupdisk:/srv/backups` stays readable in the log.
_REDACTED_BY_PARAMETERS = {"BACKUP_RCLONE_REMOTE"}


def read_secret(environ: Mapping[str, str], name: str) -> str | None:
    """The value of NAME or of the file NAME_FILE names; None when neither is set."""
    file_name = f"{name}_FILE"
    # an empty NAME counts as unset, as it always has here (FALKORDB_PASSWORD="" means no password)
    direct, path = environ.get(name) or None, environ.get(file_name)
    if direct is not None and path is not None:
        raise ConfigError(f"{name} and {file_name} are both set; set only one")
    if path is not None:
        if not path:
            raise ConfigError(f"{file_name} is empty; it must name a file holding {name}")
        try:
            with open(path, encoding="utf-8") as stream:
                value = stream.read()
        except FileNotFoundError:
            raise ConfigError(f"{file_name} names a file that does not exist ({path})") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{file_name} names a file that cannot be read ({path}: {type(error).__name__})") from None
        value = value.strip("\r\n")  # a Secret written with `echo` or an editor ends in a newline that is no part of it
        if not value.strip():
            raise ConfigError(f"{file_name} names an empty file ({path})")
        if name not in _REDACTED_BY_PARAMETERS:
            register_secret(value)
        return value
    if direct is None:
        return None
    if name not in _REDACTED_BY_PARAMETERS:
        register_secret(direct)
    return direct


def resolve_secrets(environ: Mapping[str, str]) -> dict[str, str]:
    """A copy of `environ` in which every NAME_FILE of SECRET_NAMES is replaced by NAME with the file's content, so
    the rest of the code (and the child processes: redis-cli, rclone, the memory manager) only ever sees NAME."""
    resolved = dict(environ)
    for name in SECRET_NAMES:
        value = read_secret(environ, name)
        resolved.pop(f"{name}_FILE", None)
        if value is None:
            resolved.pop(name, None)
        else:
            resolved[name] = value
    return resolved

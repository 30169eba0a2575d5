"""BACKUP_RCLONE_REMOTE as rclone understands it: `NAME:path` (a remote configured by RCLONE_CONFIG_NAME_* variables)
or a connection string, `:backend,param=value,...:path` (e.g. `:b2,account=…,key=…:bucket`).

A connection string on rclone's command line would put the credentials in every process listing, so an on-the-fly
backend is turned into an environment-configured remote of the rclone child (RCLONE_CONFIG_OPENCODEBACKUP_TYPE=b2,
..._ACCOUNT=…, ..._KEY=…) and the command line only ever names `opencodebackup:bucket`. Every parameter value with a
secret-looking name is registered for redaction."""
import re
from dataclasses import dataclass, field

from .errors import ConfigError
from .redaction import is_secret_name, register_secret

CHILD_REMOTE = "opencodebackup"
_NAME = re.compile(r"^:?[A-Za-z0-9_.-]*$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class RcloneRoot:
    root: str  # what goes on rclone's command line: never holds a parameter
    child_environ: dict[str, str] = field(repr=False)  # RCLONE_CONFIG_* to add to the rclone child's environment


def _split_head(remote: str) -> tuple[str, str]:
    """`head:path` where head may hold quoted values with ':' in them."""
    quote = None
    for index, char in enumerate(remote):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == ":" and index > 0:
            return remote[:index], remote[index + 1 :]
    raise ConfigError("BACKUP_RCLONE_REMOTE must look like NAME:path or :backend,param=value:path")


def _split_parameters(text: str) -> list[str]:
    parts, current, quote = [], "", None
    for char in text:
        if quote:
            current += char
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
            current += char
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    if quote:
        raise ConfigError("BACKUP_RCLONE_REMOTE has an unclosed quote in its parameters")
    parts.append(current)
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].replace(value[0] * 2, value[0])
    return value


def parse_remote(remote: str) -> RcloneRoot:
    head, path = _split_head(remote)
    name, *parameter_texts = _split_parameters(head)
    if not _NAME.match(name) or name == ":":
        raise ConfigError("BACKUP_RCLONE_REMOTE must look like NAME:path or :backend,param=value:path")
    parameters: dict[str, str] = {}
    for text in parameter_texts:
        key, has_value, value = text.partition("=")
        if not _PARAMETER_NAME.match(key):
            raise ConfigError("BACKUP_RCLONE_REMOTE has a malformed connection-string parameter")
        parameters[key] = _unquote(value) if has_value else "true"
        if is_secret_name(key):
            register_secret(parameters[key])
    if not name.startswith(":"):
        # a configured remote; overrides on it stay in rclone's own syntax (their values are redacted in messages)
        return RcloneRoot(root=remote.rstrip("/"), child_environ={})
    prefix = f"RCLONE_CONFIG_{CHILD_REMOTE.upper()}_"
    child_environ = {f"{prefix}TYPE": name[1:]}
    for key, value in parameters.items():
        child_environ[prefix + key.upper().replace("-", "_")] = value
    return RcloneRoot(root=f"{CHILD_REMOTE}:{path}".rstrip("/") if path else f"{CHILD_REMOTE}:", child_environ=child_environ)

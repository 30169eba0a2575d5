"""Secrets come from the environment or from NAME_FILE files; every message that leaves the process passes through
`redact`, which removes:
- the value of every variable whose name holds a secret word (B2_APPLICATION_KEY, RCLONE_CONFIG_B2_ACCOUNT, ...);
- every value `secret_env` read from a file (registered, since it never was in the environment);
- the parameter values of rclone connection strings (`:b2,account=…,key=…:bucket` → `:b2,account=***,key=***:bucket`),
  wherever they appear: in BACKUP_RCLONE_REMOTE itself, in rclone's own error lines, in tracebacks;
- the user-info of URLs (`https://user:password@host` → `https://***@host`)."""
import os
import re
from collections.abc import Mapping

# whole '_'-separated words, so VALKEY_HOST is not a secret but B2_APPLICATION_KEY and RCLONE_CONFIG_B2_ACCOUNT are
_SECRET_WORDS = {"PASSWORD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "KEYS", "ACCOUNT", "AUTH", "CREDENTIALS", "SAS"}
_MIN_SECRET_LENGTH = 4  # shorter values would mangle ordinary words

_registered: set[str] = set()

# rclone: "If a parameter value contains a comma or colon it must be quoted" ('' or "" double a quote inside quotes),
# so an unquoted value ends at the next ',' or ':'
# ... and in a Python repr (a traceback) a quote inside is escaped with a backslash: \'value\'
_PARAMETER_VALUE = r"""(?:\\'(?:[^\\]|\\[^'])*\\'|\\"(?:[^\\]|\\[^"])*\\"|"(?:[^"]|"")*"|'(?:[^']|'')*'|[^,:\s"'\\]*)"""
_PARAMETER = rf"[A-Za-z][A-Za-z0-9_-]*(?:={_PARAMETER_VALUE})?"
_CONNECTION_STRING = re.compile(rf"(?<![\w.-])(:?[A-Za-z0-9_.-]*)((?:,{_PARAMETER})+):")
_ONE_PARAMETER = re.compile(rf"(,[A-Za-z][A-Za-z0-9_-]*=)({_PARAMETER_VALUE})")
_URL_USER_INFO = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s@]+@")  # a password may hold an unescaped /


def is_secret_name(name: str) -> bool:
    upper = name.upper().replace("-", "_")
    return bool(_SECRET_WORDS & set(upper.split("_")))


def register_secret(value: str) -> None:
    """A secret that did not come from a variable of a secret-looking name (a NAME_FILE's content, a parameter of an
    rclone connection string); each of its lines too, so a multi-line key file is scrubbed line by line."""
    for candidate in {value, value.strip(), *value.splitlines()}:
        candidate = candidate.strip()
        if len(candidate) >= _MIN_SECRET_LENGTH:
            _registered.add(candidate)


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    values = {value for name, value in environ.items() if is_secret_name(name) and len(value) >= _MIN_SECRET_LENGTH}
    values |= _registered
    # longest first so a secret containing another is replaced whole
    return sorted(values, key=len, reverse=True)


def redact_connection_strings(text: str) -> str:
    def parameters(match: re.Match[str]) -> str:
        return match.group(1) + _ONE_PARAMETER.sub(r"\1***", match.group(2)) + ":"

    return _CONNECTION_STRING.sub(parameters, text)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    text = redact_connection_strings(text)  # first: a connection string is itself a secret variable's value
    text = _URL_USER_INFO.sub(r"\1***@", text)
    for value in secret_values(environ):
        text = text.replace(value, "***")
    return text

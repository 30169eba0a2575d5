"""Secrets come only from the environment; every message that leaves the process passes through `redact`."""
import os
from collections.abc import Mapping

# whole '_'-separated words, so VALKEY_HOST is not a secret but B2_APPLICATION_KEY and RCLONE_CONFIG_B2_ACCOUNT are
_SECRET_WORDS = {"PASSWORD", "PASS", "PASSPHRASE", "SECRET", "TOKEN", "KEY", "ACCOUNT", "AUTH", "CREDENTIALS"}
_MIN_SECRET_LENGTH = 4  # shorter values would mangle ordinary words


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_WORDS & set(name.upper().split("_")))


def secret_values(environ: Mapping[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    values = {
        value
        for name, value in environ.items()
        if _is_secret_name(name) and len(value) >= _MIN_SECRET_LENGTH
    }
    # longest first so a secret containing another is replaced whole
    return sorted(values, key=len, reverse=True)


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    for value in secret_values(environ):
        text = text.replace(value, "***")
    return text

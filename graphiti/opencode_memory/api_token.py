"""The memory API's shared secret: who may call the loopback HTTP API.

Every container of a pod (and, in a host-network run, every process on the host) shares the API's loopback
address, so the address alone admits anyone. The plugin makes a fresh random token each time OpenCode starts and
hands it to its child in the environment (MEMORY_API_TOKEN), never on a command line. The server publishes it in a
private runtime file (directory 0700, file 0600, owned by this user) so the CLI and tools running inside the same
container find it; neighbours in other containers share the loopback but not this file system, and other users
cannot read it. The token is never logged, printed, or written anywhere else.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

TOKEN_ENV = 'MEMORY_API_TOKEN'
AUTH_SCHEME = 'Bearer'
# Shorter secrets are refused: they could be guessed over loopback faster than a day's worth of requests.
MIN_TOKEN_CHARS = 32


def new_token() -> str:
    return secrets.token_urlsafe(32)


def runtime_dir(environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    """$XDG_RUNTIME_DIR/opencode-memory when the session has one, else /tmp/opencode-memory-<uid> (the image runs
    with a tmpfs /tmp, also under --read-only)."""
    xdg = environ.get('XDG_RUNTIME_DIR', '')
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return Path(xdg) / 'opencode-memory'
    return Path(tempfile.gettempdir()) / f'opencode-memory-{os.getuid()}'


def token_file(port: int, environ: os._Environ[str] | dict[str, str] = os.environ) -> Path:
    return runtime_dir(environ) / f'api-token-{port}'


def _is_private(path: Path, mode_mask: int) -> bool:
    info = os.lstat(path)
    return info.st_uid == os.getuid() and not stat.S_ISLNK(info.st_mode) and (info.st_mode & mode_mask) == 0


def _private_dir(directory: Path) -> None:
    with contextlib.suppress(FileExistsError):
        os.mkdir(directory, 0o700)
    # Another user could have made the directory first in a shared /tmp: then it is not ours to use.
    if not os.path.isdir(directory) or not _is_private(directory, 0o077):
        raise PermissionError(f'{directory} is not a private directory of uid {os.getuid()}')


def publish(token: str, port: int, environ: os._Environ[str] | dict[str, str] = os.environ) -> Path | None:
    """Writes the token to its file (atomically, 0600); None (and one log line) when that is impossible, in which case
    only callers that were handed the token can use the API."""
    path = token_file(port, environ)
    try:
        _private_dir(path.parent)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix='.api-token-')
        try:
            with os.fdopen(descriptor, 'w', encoding='ascii') as handle:
                handle.write(token)
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError as error:
        logger.warning('cannot publish the memory API token under %s (%s); the CLI will need %s',
                       path.parent, error.strerror or error, TOKEN_ENV)
        return None
    return path


def withdraw(token: str, port: int, environ: os._Environ[str] | dict[str, str] = os.environ) -> None:
    """Removes the token file if it still holds this token (a newer process may have replaced it)."""
    path = token_file(port, environ)
    with contextlib.suppress(OSError):
        if path.read_text(encoding='ascii') == token:
            path.unlink()


def read_published(port: int, environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    path = token_file(port, environ)
    try:
        if not _is_private(path.parent, 0o077) or not _is_private(path, 0o077):
            return None
        token = path.read_text(encoding='ascii').strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None


def caller_token(port: int, environ: os._Environ[str] | dict[str, str] = os.environ) -> str | None:
    """What a client (the CLI) sends: MEMORY_API_TOKEN if its caller set it, else the published file."""
    return environ.get(TOKEN_ENV) or read_published(port, environ)


def server_token(environ: os._Environ[str] | dict[str, str] = os.environ) -> str:
    """The plugin's token when it started this process, else a fresh one (an operator's `serve`). Removed from this
    process's environment so nothing it might start inherits it."""
    token = environ.pop(TOKEN_ENV, '') if hasattr(environ, 'pop') else environ.get(TOKEN_ENV, '')
    if token and len(token) >= MIN_TOKEN_CHARS:
        return token
    if token:
        logger.warning('%s is shorter than %d characters; using a fresh random token instead', TOKEN_ENV, MIN_TOKEN_CHARS)
    return new_token()


def authorized(header: str | None, token: str) -> bool:
    """Constant-time check of an `Authorization: Bearer <token>` header."""
    if not header:
        return False
    scheme, _, presented = header.partition(' ')
    if scheme.lower() != AUTH_SCHEME.lower():
        return False
    return hmac.compare_digest(presented.strip().encode('utf-8', 'replace'), token.encode('utf-8'))


PROOF_LABEL = b'opencode-memory-proof\n'


def proof(token: str, nonce: str) -> str:
    """What only the token holder can answer to a caller's nonce (GET /proof): the plugin checks it before it sends
    the token or anything of a session's to whatever listens on the memory port. Keyed with the token, and labelled, so
    it is never a usable Authorization value."""
    return hmac.new(token.encode(), PROOF_LABEL + nonce.encode(), hashlib.sha256).hexdigest()

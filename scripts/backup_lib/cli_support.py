"""What both CLIs share: redacted error reporting and the exit codes."""
import os
import sys
import traceback
from collections.abc import Callable

from .errors import BackupError, ConfigError
from .redaction import redact

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_CONFIG = 78  # EX_CONFIG: a setting is missing or wrong; nothing was touched


def say(program: str, message: str) -> None:
    print(f"{program}: {redact(message)}", flush=True)


def run_reporting_errors(program: str, body: Callable[[], int],
                         on_error: Callable[[str], None] | None = None) -> int:
    """`on_error` gets the one redacted line that was printed, e.g. to report it elsewhere."""
    def failed(line: str, code: int) -> int:
        print(f"{program}: {line}", file=sys.stderr, flush=True)
        if on_error is not None:
            on_error(line)
        return code

    try:
        return body()
    except ConfigError as error:
        return failed(f"error: {redact(str(error))}", EXIT_CONFIG)
    except BackupError as error:
        return failed(f"error: {redact(str(error))}", EXIT_FAILED)
    except KeyboardInterrupt:
        return failed("interrupted", EXIT_FAILED)
    except Exception as error:  # an unforeseen failure still must not leak a secret or exit 0
        code = failed(f"unexpected error: {type(error).__name__}: {redact(str(error))}", EXIT_FAILED)
        if os.environ.get("BACKUP_DEBUG") == "1":
            print(redact(traceback.format_exc()), file=sys.stderr, flush=True)
        return code

class BackupError(Exception):
    """A failure the operator must see: the CLI prints its (redacted) message and exits non-zero."""


class VerificationError(BackupError):
    """A stored or downloaded object does not match the checksum or size it must have."""


class ConfigError(BackupError):
    """A setting (usually a secret) is missing, doubled, unreadable or malformed: one line naming the variable,
    exit 78 (EX_CONFIG), checked before anything is read from or written to a server or the remote."""

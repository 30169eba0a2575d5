class BackupError(Exception):
    """A failure the operator must see: the CLI prints its (redacted) message and exits non-zero."""


class VerificationError(BackupError):
    """A stored or downloaded object does not match the checksum or size it must have."""

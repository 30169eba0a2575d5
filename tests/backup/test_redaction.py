from backup_lib.redaction import redact


def test_redacts_secret_values_but_not_endpoints():
    environ = {
        "VALKEY_HOST": "127.0.0.1",
        "VALKEY_PORT": "6380",
        "VALKEY_PASSWORD": "hunter2-valkey",
        "B2_APPLICATION_KEY": "K005abcdef",
        "RCLONE_CONFIG_B2_ACCOUNT": "0051234",
        "RCLONE_CONFIG_WEB_PASS": "obscured-pass",
    }
    text = "127.0.0.1:6380 hunter2-valkey K005abcdef 0051234 obscured-pass"
    assert redact(text, environ) == "127.0.0.1:6380 *** *** *** ***"


# --- property-style: seeded generated remotes, URLs and error lines with planted secrets (issue 18, part 6) ---
import random  # noqa: E402

import pytest  # noqa: E402

from backup_lib import redaction  # noqa: E402
from backup_lib.rclone_remote import parse_remote  # noqa: E402

SECRET_PARAMETERS = ("account", "key", "pass", "password", "secret_access_key", "access_key_id", "client_secret",
                     "sas_url", "bearer_token", "service_account_credentials", "session_token")
PLAIN_PARAMETERS = (("hard_delete", "true"), ("chunk_size", "96M"), ("region", "eu-central-003"))
BACKENDS = ("b2", "s3", "azureblob", "sftp", "webdav", "local")
CASES = 500


def _secret(rng: random.Random, quoted: bool) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789+/=_.-"
    if quoted:
        alphabet += ",: "  # only a quoted value may hold these
    body = "".join(rng.choice(alphabet) for _ in range(rng.randint(10, 40)))
    return f"S{rng.randint(1000, 9999)}{body}"


def _quote(rng: random.Random, value: str, quoted: bool) -> str:
    if not quoted:
        return value
    mark = rng.choice("\"'")
    return mark + value.replace(mark, mark * 2) + mark


def _remote(rng: random.Random) -> tuple[str, list[str], str]:
    """(connection string, planted secrets, a plain path part that must survive)"""
    planted, parameters = [], []
    for name in rng.sample(SECRET_PARAMETERS, rng.randint(1, 4)):
        quoted = rng.random() < 0.4
        value = _secret(rng, quoted)
        planted.append(value)
        parameters.append(f"{name}={_quote(rng, value, quoted)}")
    for name, value in rng.sample(PLAIN_PARAMETERS, rng.randint(0, 2)):
        parameters.insert(rng.randint(0, len(parameters)), f"{name}={value}")
    bucket = f"bucket-{rng.randint(100, 999)}"
    head = rng.choice([f":{rng.choice(BACKENDS)}", f"named{rng.randint(1, 9)}"])
    return f"{head},{','.join(parameters)}:{bucket}/opencode-server", planted, bucket


def _message(rng: random.Random, remote: str, url_secret: str) -> str:
    shapes = [
        f'rclone lsf failed (exit 1): Failed to create file system for "{remote}": couldn\'t connect',
        f"BACKUP_RCLONE_REMOTE={remote}",
        f"backup: error: rclone remote {remote} does not exist: create the bucket or folder first",
        f"Traceback: RuntimeError({remote!r}) while listing {remote}/20261203T000000.000Z",
        f"proxy https://svc:{url_secret}@proxy.example:8443/b2 refused {remote}",
    ]
    return " | ".join(rng.sample(shapes, rng.randint(1, len(shapes))))


@pytest.mark.parametrize("register", [True, False], ids=["parsed-first", "never-parsed"])
def test_no_planted_secret_survives_redaction_in_generated_remotes_urls_and_errors(monkeypatch, register):
    monkeypatch.setattr(redaction, "_registered", set())
    rng = random.Random(18_06)
    planted_total = 0
    for _ in range(CASES):
        remote, planted, bucket = _remote(rng)
        url_secret = _secret(rng, quoted=False)
        if register:
            parse_remote(remote)
        text = redact(_message(rng, remote, url_secret), {})
        for secret in [*planted, url_secret]:
            assert secret not in text, (remote, text)
        assert bucket in text and "opencode-server" in text  # what is not secret stays readable
        planted_total += len(planted) + 1
    assert planted_total > 1000


def test_the_issue_remote_is_redacted_whole():
    remote = ":b2,account=0051a2b3c4d5e6f0000000001,key=K001abcdefghijklmnopqrstuvwxyz012:bucket"
    assert redact(f'BACKUP_RCLONE_REMOTE="{remote}"', {}) == 'BACKUP_RCLONE_REMOTE=":b2,account=***,key=***:bucket"'

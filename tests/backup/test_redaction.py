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

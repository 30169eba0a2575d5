"""The backup sidecar: the environment saved owner-only under the runtime dir, the schedule it hands to
backup-scheduler, and the job (run as by hand, with next to no environment) loading it and taking a real backup into an
rclone local remote."""
import os
import stat
import subprocess
import sys

from .conftest import SCRIPTS, VALKEY_PASSWORD
from .helpers import backup_folders_on_disk, fill, manifest_on_disk

TIMEOUT_SECONDS = 300


def test_sidecar_saves_env_and_cron_job_backs_up_rclone_local_remote(backup_env, rclone_local_remote, tmp_path):
    fill(backup_env)
    runtime_dir = tmp_path / "run" / "opencode-backup"
    sidecar_env = dict(os.environ)
    sidecar_env.update(
        BACKUP_RUNTIME_DIR=str(runtime_dir),
        BACKUP_SCHEDULE="*/15 * * * *",
        BACKUP_PYTHON=sys.executable,
        BACKUP_PARTS="falkordb,valkey",
        UNRELATED_SETTING="must-not-be-saved",
    )
    started = subprocess.run(
        [str(SCRIPTS / "backup-sidecar"), "true"], env=sidecar_env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    assert started.returncode == 0, started.stderr
    env_file = runtime_dir / "env"
    assert stat.S_IMODE(runtime_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    saved = env_file.read_text()
    assert "VALKEY_PASSWORD=" in saved and "UNRELATED_SETTING" not in saved
    assert VALKEY_PASSWORD not in started.stdout + started.stderr
    assert f"backup-sidecar: schedule: */15 * * * * {SCRIPTS}/backup-cron-job" in started.stdout

    # a job started with next to nothing in its environment (as `podman exec … backup-cron-job` may be)
    cron_env = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "HOME": "/root", "BACKUP_RUNTIME_DIR": str(runtime_dir)}
    job = subprocess.run(
        [str(SCRIPTS / "backup-cron-job")], env=cron_env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS
    )
    assert job.returncode == 0, job.stdout + job.stderr
    [folder] = backup_folders_on_disk(rclone_local_remote)
    assert [entry["part"] for entry in manifest_on_disk(folder)["files"]] == ["valkey", "valkey", "falkordb", "falkordb"]


def test_cron_job_without_saved_env_fails_clearly(tmp_path):
    job = subprocess.run(
        [str(SCRIPTS / "backup-cron-job")],
        env={"PATH": "/usr/bin:/bin", "BACKUP_RUNTIME_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
    )
    assert job.returncode == 1
    assert "start the sidecar" in job.stderr


def test_sidecar_refuses_a_schedule_that_is_not_five_cron_fields(tmp_path):
    sidecar_env = dict(os.environ, BACKUP_RUNTIME_DIR=str(tmp_path / "run"), BACKUP_SCHEDULE="61 * * * *")
    started = subprocess.run(
        [str(SCRIPTS / "backup-sidecar"), "true"], env=sidecar_env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 2
    assert started.stderr.strip().splitlines() == [
        "backup-scheduler: the schedule '61 * * * *' is not five valid cron fields: minute: 61 is outside 0-59"
    ]
    assert not (tmp_path / "run").exists()


def test_shipped_crontab_runs_the_job_daily():
    lines = [line for line in (SCRIPTS / "crontab").read_text().splitlines() if line and not line.startswith("#")]
    schedule_lines = [line for line in lines if line[0].isdigit() or line[0] == "*"]
    assert schedule_lines == ["17 3 * * * /app/scripts/backup-cron-job"]
    assert 'MAILTO=""' in lines

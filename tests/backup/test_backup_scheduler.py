"""scripts/backup-scheduler and its cron reader scripts/cron_schedule.py: the non-root replacement for `cron -f` in the
backup sidecar. The schedule's next times are checked against crontab(5)'s rules; the loop runs with a fake clock
(no test waits for a real minute); a real child process proves the command is run with the scheduler's environment."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from .conftest import SCRIPTS

sys.path.insert(0, str(SCRIPTS))

from cron_schedule import ScheduleError, parse  # noqa: E402

from tests.support.script_module import load_script  # noqa: E402


def load_scheduler():
    return load_script(SCRIPTS / 'backup-scheduler', 'backup_scheduler')


def next_times(schedule: str, start: datetime, count: int) -> list[str]:
    parsed, moment, found = parse(schedule), start, []
    for _ in range(count):
        moment = parsed.next_after(moment)
        found.append(moment.strftime('%Y-%m-%d %H:%M %a'))
    return found


@pytest.mark.parametrize('schedule, start, expected', [
    ('17 3 * * *', datetime(2026, 12, 3, 3, 17, 30), ['2026-12-04 03:17 Fri', '2026-12-05 03:17 Sat']),
    ('17 3 * * *', datetime(2026, 12, 3, 3, 16, 59), ['2026-12-03 03:17 Thu', '2026-12-04 03:17 Fri']),
    ('* * * * *', datetime(2026, 12, 31, 23, 59, 5), ['2027-01-01 00:00 Fri', '2027-01-01 00:01 Fri']),
    ('*/20 9-10 * * *', datetime(2026, 1, 1, 10, 40), ['2026-01-02 09:00 Fri', '2026-01-02 09:20 Fri']),
    ('0 0 * * mon-fri', datetime(2026, 12, 4, 12, 0), ['2026-12-07 00:00 Mon', '2026-12-08 00:00 Tue']),
    ('0 12 * * 7', datetime(2026, 12, 1), ['2026-12-06 12:00 Sun', '2026-12-13 12:00 Sun']),
    # day of month and day of week both restricted: either one fires (crontab(5))
    ('0 0 13 * fri', datetime(2026, 11, 1), ['2026-11-06 00:00 Fri', '2026-11-13 00:00 Fri']),
    ('30 6 29 feb *', datetime(2026, 3, 1), ['2028-02-29 06:30 Tue', '2032-02-29 06:30 Sun']),
    ('5,35 1 1 jan,JUL *', datetime(2026, 6, 30), ['2026-07-01 01:05 Wed', '2026-07-01 01:35 Wed']),
    ('0 22/1 * * *', datetime(2026, 5, 5, 22, 30), ['2026-05-05 23:00 Tue', '2026-05-06 22:00 Wed']),
])
def test_next_times_follow_crontab_rules(schedule, start, expected):
    assert next_times(schedule, start, 2) == expected


@pytest.mark.parametrize('schedule, message', [
    ('17 3 * *', 'five fields (minute hour day-of-month month day-of-week) expected, got 4'),
    ('61 * * * *', 'minute: 61 is outside 0-59'),
    ('* 24 * * *', 'hour: 24 is outside 0-23'),
    ('* * 0 * *', 'day of month: 0 is outside 1-31'),
    ('* * * 13 *', 'month: 13 is outside 1-12'),
    ('* * * * 8', 'day of week: 8 is outside 0-7'),
    ('*/0 * * * *', "minute: step '0' must be a whole number above 0"),
    ('5-1 * * * *', "minute: range '5-1' runs backwards"),
    ('1,,2 * * * *', "minute: an empty item in '1,,2'"),
    ('@daily', 'five fields (minute hour day-of-month month day-of-week) expected, got 1'),
    ('0 0 * * fun', "day of week: 'fun' is not a number or a name"),
    ('0 0 31 feb *', "'0 0 31 feb *' never fires (no such date)"),
])
def test_bad_schedules_are_refused_naming_the_field(schedule, message):
    with pytest.raises(ScheduleError) as raised:
        parse(schedule)
    assert str(raised.value) == message


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.moment = start
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self.moment

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.moment += timedelta(seconds=seconds)


def test_the_loop_runs_the_command_at_each_scheduled_minute_and_sleeps_at_most_a_minute_at_a_time():
    scheduler = load_scheduler()
    clock = FakeClock(datetime(2026, 12, 3, 3, 10, 30))
    ran_at: list[datetime] = []

    def run(command):
        ran_at.append(clock.moment)
        clock.moment += timedelta(seconds=40)  # the job takes a while
        return 0
    scheduler.run_on_schedule(parse('17 3 * * *'), ['job'], now=clock.now, sleep=clock.sleep, run=run, runs=2)
    assert ran_at == [datetime(2026, 12, 3, 3, 17), datetime(2026, 12, 4, 3, 17)]
    assert max(clock.sleeps) <= 60


def test_a_run_that_outlasts_the_next_minute_skips_it_and_a_failed_run_is_one_line(capsys):
    scheduler = load_scheduler()
    clock = FakeClock(datetime(2026, 12, 3, 0, 0, 10))
    ran_at: list[datetime] = []

    def run(command):
        ran_at.append(clock.moment)
        clock.moment += timedelta(seconds=90)
        return 1
    scheduler.run_on_schedule(parse('* * * * *'), ['job'], now=clock.now, sleep=clock.sleep, run=run, runs=2)
    assert ran_at == [datetime(2026, 12, 3, 0, 1), datetime(2026, 12, 3, 0, 3)]
    assert capsys.readouterr().out.splitlines() == [
        'backup-scheduler: the run due at 2026-12-03 00:01 exited 1; the schedule goes on',
        'backup-scheduler: the run due at 2026-12-03 00:03 exited 1; the schedule goes on',
    ]


def test_a_clock_that_jumps_back_is_waited_out():
    scheduler = load_scheduler()
    clock = FakeClock(datetime(2026, 12, 3, 3, 16, 0))
    jumped = []

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if not jumped:
            jumped.append(True)
            clock.moment -= timedelta(minutes=10)  # NTP set the clock back meanwhile
    ran_at = []
    scheduler.run_on_schedule(parse('17 3 * * *'), ['job'], now=clock.now, sleep=sleep,
                              run=lambda command: ran_at.append(clock.moment) or 0, runs=1)
    assert ran_at == [datetime(2026, 12, 3, 3, 17)]


def test_the_command_runs_with_the_schedulers_environment(tmp_path):
    scheduler = load_scheduler()
    out = tmp_path / 'seen'
    command = [sys.executable, '-c', f'import os; open({str(out)!r}, "w").write(os.environ["BACKUP_MARK"])']
    os.environ['BACKUP_MARK'] = 'inherited'
    try:
        clock = FakeClock(datetime(2026, 12, 3, 0, 0, 30))
        scheduler.run_on_schedule(parse('* * * * *'), command, now=clock.now, sleep=clock.sleep, runs=1)
    finally:
        del os.environ['BACKUP_MARK']
    assert out.read_text() == 'inherited'


def test_check_and_usage_from_the_command_line():
    script = str(SCRIPTS / 'backup-scheduler')
    assert subprocess.run([script, '--check', '17 3 * * *'], capture_output=True, timeout=30).returncode == 0
    bad = subprocess.run([script, '--check', '17 3 * *'], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == ["backup-scheduler: the schedule '17 3 * *' is not five valid cron fields: "
                                       'five fields (minute hour day-of-month month day-of-week) expected, got 4']
    usage = subprocess.run([script], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and usage.stderr.startswith('usage: backup-scheduler')

"""Five-field cron schedules (minute hour day-of-month month day-of-week), as crontab(5) reads them, and the next
time one fires. Used by scripts/backup-scheduler, which replaces cron in the backup sidecar: cron needs root to run
jobs, the sidecar runs as the server's uid.

Accepted in each field: `*`, a number, a range `a-b`, a step `*/n` or `a-b/n` or `a/n` (from a to the field's end),
lists of those separated by commas, and month (jan-dec) and weekday (sun-sat) names. Day of week 0 and 7 are both
Sunday. As in cron, when both day of month and day of week are restricted (neither starts with `*`), a day matching
either one fires. Times are naive local wall-clock times (the container's TZ, UTC by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

MONTH_NAMES = ('jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec')
WEEKDAY_NAMES = ('sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat')
# The longest a valid schedule can wait for its next time: 29 February on a given weekday recurs within 28 years.
SEARCH_YEARS = 29


class ScheduleError(ValueError):
    """The schedule cannot be read; the message names the field and what is wrong with it."""


@dataclass(frozen=True)
class Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


FIELDS = (
    Field('minute', 0, 59),
    Field('hour', 0, 23),
    Field('day of month', 1, 31),
    Field('month', 1, 12, MONTH_NAMES, 1),
    Field('day of week', 0, 7, WEEKDAY_NAMES, 0),
)


def _number(text: str, field: Field) -> int:
    lowered = text.lower()
    if lowered in field.names:
        return field.names.index(lowered) + field.names_start
    if not text.isdigit():
        raise ScheduleError(f'{field.name}: {text!r} is not a number' + (' or a name' if field.names else ''))
    value = int(text)
    if not field.low <= value <= field.high:
        raise ScheduleError(f'{field.name}: {value} is outside {field.low}-{field.high}')
    return value


def _values(text: str, field: Field) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(','):
        if not item:
            raise ScheduleError(f'{field.name}: an empty item in {text!r}')
        base, _, step_text = item.partition('/')
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ScheduleError(f'{field.name}: step {step_text!r} must be a whole number above 0')
            step = int(step_text)
        if base == '*':
            low, high = field.low, field.high
        elif '-' in base:
            start, _, end = base.partition('-')
            low, high = _number(start, field), _number(end, field)
            if low > high:
                raise ScheduleError(f'{field.name}: range {base!r} runs backwards')
        else:
            low = _number(base, field)
            high = field.high if step_text else low
        values.update(range(low, high + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday … 6 = Saturday
    days_restricted: bool
    weekdays_restricted: bool

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = (day.isoweekday() % 7) in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def next_after(self, moment: datetime) -> datetime:
        """The first time after `moment` (whole minutes, seconds dropped) at which the schedule fires."""
        candidate = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        day = candidate.date()
        last_day = day + timedelta(days=366 * SEARCH_YEARS)
        while day <= last_day:
            if self._day_matches(day):
                start = candidate if day == candidate.date() else datetime.combine(day, datetime.min.time())
                for hour in sorted(self.hours):
                    if hour < start.hour:
                        continue
                    for minute in sorted(self.minutes):
                        if hour == start.hour and minute < start.minute:
                            continue
                        return start.replace(hour=hour, minute=minute)
            day += timedelta(days=1)
        raise ScheduleError(f'{self.text!r} never fires (no such date)')


def parse(text: str) -> Schedule:
    parts = text.split()
    if len(parts) != 5:
        raise ScheduleError(f'five fields (minute hour day-of-month month day-of-week) expected, got {len(parts)}')
    minutes, hours, days, months, weekdays = (_values(part, field) for part, field in zip(parts, FIELDS))
    schedule = Schedule(
        text=' '.join(parts), minutes=minutes, hours=hours, days=days, months=months,
        weekdays=frozenset(value % 7 for value in weekdays),
        days_restricted=not parts[2].startswith('*'), weekdays_restricted=not parts[4].startswith('*'))
    schedule.next_after(datetime(2000, 1, 1))  # e.g. `0 0 31 2 *`: refused now, not at the first wait
    return schedule

"""Partition widths: how a use case cuts its data in time.

A partition is a day, an ISO week (Monday to Sunday) or a calendar month, named by its **start**
(the day, the week's Monday, the month's first day). The ETL loads one partition per run, from
local midnight of its start to local midnight of the next start in the source's time zone; the
training stage counts its windows and holdouts in partitions. Both stages read the arithmetic
from here, and the use case loader checks a schedule against the width with it.

Hourly partitions are not offered: a partition is named by a date (``<key>=<start date>``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal, get_args

PartitionWidth = Literal["day", "week", "month"]
WIDTHS: tuple[str, ...] = get_args(PartitionWidth)

# Airflow's cron presets (airflow.utils.dates.cron_presets); note that ``@weekly`` is Sunday midnight.
CRON_PRESETS = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@quarterly": "0 0 1 */3 *",
                "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}
# The schedule a width implies (the default when a use case sets none): one run per partition,
# at the partition's end, so the data interval is exactly the partition.
DEFAULT_SCHEDULES: dict[str, str] = {"day": "@daily", "week": "0 0 * * 1", "month": "@monthly"}
# The cron fields (minute, hour, day of month, month, day of week) that line up with each width.
_ALIGNED: dict[str, list[list[int | str]]] = {
    "day": [[0], [0], ["*"], ["*"], ["*"]],
    "week": [[0], [0], ["*"], ["*"], [1]],
    "month": [[0], [0], [1], ["*"], ["*"]],
}
_STARTS = {"day": "any day", "week": "a Monday", "month": "the first day of a month"}
_FIRES = {"day": "every day", "week": "every Monday", "month": "the first day of every month"}
UNITS = {"day": "day", "week": "week", "month": "month"}


def partition_start(day: date, width: PartitionWidth) -> date:
    """The start of the partition that contains ``day``."""
    if width == "week":
        return day - timedelta(days=day.weekday())
    if width == "month":
        return day.replace(day=1)
    return day


def is_partition_start(day: date, width: PartitionWidth) -> bool:
    return partition_start(day, width) == day


def require_partition_start(day: date, width: PartitionWidth) -> date:
    """``day`` if a partition of ``width`` starts on it; else ``ValueError`` naming the nearest starts."""
    start = partition_start(day, width)
    if start != day:
        raise ValueError(f"{day} ({day:%A}) is not the start of a {width} partition: {width} partitions start "
                         f"on {_STARTS[width]}; use {start} (the partition containing {day}) or "
                         f"{shift(start, 1, width)}")
    return day


def shift(start: date, count: int, width: PartitionWidth) -> date:
    """The start ``count`` partitions after (or, negative, before) the partition starting at ``start``."""
    if width == "day":
        return start + timedelta(days=count)
    if width == "week":
        return start + timedelta(weeks=count)
    months = start.year * 12 + start.month - 1 + count
    return date(months // 12, months % 12 + 1, 1)


def next_start(start: date, width: PartitionWidth) -> date:
    return shift(start, 1, width)


def last_day(start: date, width: PartitionWidth) -> date:
    """The last calendar day of the partition starting at ``start``."""
    return next_start(start, width) - timedelta(days=1)


def partition_starts(first: date, last: date, width: PartitionWidth) -> list[date]:
    """Starts of the partitions that cover ``first`` .. ``last``."""
    starts, start = [], partition_start(first, width)
    while start <= last:
        starts.append(start)
        start = next_start(start, width)
    return starts


def amount(width: PartitionWidth, count: int) -> str:
    """``"1 day"``, ``"7 days"``, ``"2 weeks"``... for messages."""
    return f"{count} {UNITS[width]}{'' if count == 1 else 's'}"


def cron_expression(schedule: str) -> str:
    """A schedule as a cron expression (Airflow's presets expanded)."""
    return CRON_PRESETS.get(schedule.strip(), schedule.strip())


def schedule_problem(schedule: str, width: PartitionWidth) -> str | None:
    """Why ``schedule`` does not give one data interval per ``width`` partition, or ``None`` if it does.

    The ETL's timetable makes each data interval run from one fire time to the next, so the cron
    must fire exactly at every partition start (local midnight), and nowhere else.
    """
    from croniter import croniter  # type: ignore[import-untyped]

    expression = cron_expression(schedule)
    if expression.startswith("@"):
        return f"schedule {schedule!r} is not a cron expression or one of {sorted(CRON_PRESETS)}"
    try:
        fields = croniter(expression).expanded
    except (ValueError, KeyError) as error:  # croniter's errors subclass ValueError
        return f"schedule {schedule!r} is not a valid cron expression: {error}"
    if len(fields) != 5 or fields != _ALIGNED[width]:
        return (f"schedule {schedule!r} does not line up with partition_width {width!r}: each data interval "
                f"must be exactly one {width} partition, so the cron must fire at midnight on {_FIRES[width]} "
                f"and at no other time; use {DEFAULT_SCHEDULES[width]!r} (the default for {width!r}) or set "
                "partition_width to match the schedule")
    return None

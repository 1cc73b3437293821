"""Which partition an ETL run loads, and the source window it reads.

A scheduled or backfill run loads its **data interval** ``[data_interval_start, data_interval_end)``:
the ETL's timetable runs in the source's time zone, so the interval, seen in that zone, is one
partition from local midnight of its start to local midnight of the next start. A manual run has
no interval (or one the user did not choose): it names the partition by its start in the
``partition_date`` parameter, which wins. Anything else is refused with a message naming the
problem, so a run never loads part of a partition or two partitions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from include.common.metadata import CommitKey
from include.common.params import check_date_in_range
from include.common.partitioning import PartitionWidth, next_start, partition_start, require_partition_start


@dataclass(frozen=True)
class Partition:
    """One partition of a use case: its start (its name) and its source window (aware, source zone)."""

    start: date
    width: PartitionWidth
    window_start: datetime
    window_end: datetime

    def __str__(self) -> str:
        return f"{self.width} partition {self.start} (source window [{self.window_start}, {self.window_end}))"

    @property
    def window(self) -> tuple[datetime, datetime]:
        return self.window_start, self.window_end

    def window_metadata(self) -> dict[str, str]:
        """Commit metadata naming the partition and the source window it covers."""
        return {CommitKey.PARTITION: self.start.isoformat(), CommitKey.PARTITION_START: self.window_start.isoformat(),
                CommitKey.PARTITION_END: self.window_end.isoformat()}

    def metadata(self) -> dict[str, str]:
        """``window_metadata`` and the partition's width."""
        return {**self.window_metadata(), CommitKey.PARTITION_WIDTH: self.width}


def local_midnight(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(), ZoneInfo(timezone))


def partition_at(start: date, width: PartitionWidth, timezone: str) -> Partition:
    """The partition starting at ``start``: ``[start 00:00, next start 00:00)`` in ``timezone``."""
    start = require_partition_start(start, width)
    return Partition(start, width, local_midnight(start, timezone),
                     local_midnight(next_start(start, width), timezone))


def partition_of_interval(interval_start: datetime, interval_end: datetime, width: PartitionWidth,
                          timezone: str) -> Partition:
    """The partition a data interval is, or ``ValueError`` when the interval is not exactly one partition."""
    zone = ZoneInfo(timezone)
    local_start, local_end = interval_start.astimezone(zone), interval_end.astimezone(zone)
    start = local_start.date()
    expected = partition_at(partition_start(start, width), width, timezone)
    if (interval_start.astimezone(UTC), interval_end.astimezone(UTC)) != (
            expected.window_start.astimezone(UTC), expected.window_end.astimezone(UTC)):
        raise ValueError(
            f"data interval [{interval_start.isoformat()}, {interval_end.isoformat()}) is "
            f"[{local_start.isoformat()}, {local_end.isoformat()}) in the source's time zone {timezone}, not one "
            f"{width} partition (the {width} containing {start} runs [{expected.window_start.isoformat()}, "
            f"{expected.window_end.isoformat()})); the DAG's schedule must run in {timezone} at every partition "
            "start, or name the partition in the 'partition_date' parameter")
    return expected


def parse_partition_date(value: str | None) -> date:
    """The partition start a manual run names (``YYYY-MM-DD``, or a timestamp starting with it)."""
    if not value or value == "None":
        raise ValueError("no partition date: a manual run must set the 'partition_date' parameter "
                         "(YYYY-MM-DD, the partition's start) in the trigger form or in conf")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"parameter 'partition_date': {value!r} is not an ISO date (YYYY-MM-DD)") from None


def parse_datetime(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} {value!r} is not an ISO timestamp") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{name} {value!r} has no time zone")
    return parsed


def resolve_partition(partition_date: str | None, interval_start: str | None, interval_end: str | None,
                      width: PartitionWidth, timezone: str, bounds: tuple[date, date] | None = None) -> Partition:
    """The partition a run loads: the ``partition_date`` parameter if set, else the run's data interval.

    Values are rendered templates: empty (``""`` or ``"None"``) means unset. ``ValueError`` says why a
    run names no partition or a value that is not a partition start. ``bounds``: the first and last
    partition starts the source holds; a ``partition_date`` outside them is refused (``ParameterError``)
    before anything is read or written.
    """
    manual, start, end = (None if not value or value == "None" else value
                          for value in (partition_date, interval_start, interval_end))
    if manual is None and start is not None and end is not None:
        return partition_of_interval(parse_datetime(start, "data_interval_start"),
                                     parse_datetime(end, "data_interval_end"), width, timezone)
    day = parse_partition_date(manual)
    if bounds is not None:
        check_date_in_range("partition_date", day, *bounds, what=f"the source's {width} partitions")
    try:
        return partition_at(day, width, timezone)
    except ValueError as error:
        raise ValueError(f"partition_date: {error}") from None

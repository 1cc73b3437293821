"""Which partition an ETL run loads: from its data interval in the source's time zone, or from the
``partition_date`` of a manual run (no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from include.etl.windows import partition_at, partition_of_interval, resolve_partition

NY = "America/New_York"


def local(*args: int, zone: str = NY) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def test_a_week_runs_from_monday_midnight_to_the_next_monday_midnight_across_dst() -> None:
    week = partition_at(date(2013, 3, 4), "week", NY)  # DST starts on Sunday 2013-03-10
    assert week.window == (local(2013, 3, 4), local(2013, 3, 11))
    assert (week.window_end.astimezone(UTC) - week.window_start.astimezone(UTC)).total_seconds() == 7 * 24 * 3600 - 3600
    assert week.metadata() == {"partition": "2013-03-04", "partition_width": "week",
                               "partition_start": "2013-03-04T00:00:00-05:00",
                               "partition_end": "2013-03-11T00:00:00-04:00"}


def test_a_month_runs_from_its_first_to_the_next_first() -> None:
    assert partition_at(date(2013, 2, 1), "month", "UTC").window == (
        datetime(2013, 2, 1, tzinfo=ZoneInfo("UTC")), datetime(2013, 3, 1, tzinfo=ZoneInfo("UTC")))


def test_a_data_interval_is_the_partition_it_covers_in_the_source_time_zone() -> None:
    # a backfill run of a weekly DAG whose timetable runs in New York (data interval stored in UTC)
    partition = partition_of_interval(datetime(2013, 1, 7, 5, tzinfo=UTC), datetime(2013, 1, 14, 5, tzinfo=UTC),
                                      "week", NY)
    assert partition.start == date(2013, 1, 7) and partition.window == (local(2013, 1, 7), local(2013, 1, 14))
    month = partition_of_interval(datetime(2013, 3, 1, 5, tzinfo=UTC), datetime(2013, 4, 1, 4, tzinfo=UTC),
                                  "month", NY)
    assert month.start == date(2013, 3, 1)


@pytest.mark.parametrize(("start", "end", "width"), [
    (datetime(2013, 1, 7, tzinfo=UTC), datetime(2013, 1, 14, tzinfo=UTC), "week"),  # UTC midnights: 19:00 in NY
    (datetime(2013, 1, 7, 5, tzinfo=UTC), datetime(2013, 1, 8, 5, tzinfo=UTC), "week"),  # one day, not a week
    (datetime(2013, 1, 8, 5, tzinfo=UTC), datetime(2013, 1, 15, 5, tzinfo=UTC), "week"),  # Tuesday to Tuesday
    (datetime(2013, 3, 1, 5, tzinfo=UTC), datetime(2013, 3, 2, 5, tzinfo=UTC), "month"),  # @daily on monthly
])
def test_an_interval_that_is_not_exactly_one_partition_is_refused(start: datetime, end: datetime,
                                                                  width: str) -> None:
    with pytest.raises(ValueError, match=f"not one {width} partition") as error:
        partition_of_interval(start, end, width, NY)  # type: ignore[arg-type]
    assert start.isoformat() in str(error.value) and NY in str(error.value)


def test_a_manual_run_names_the_partition_by_its_start_and_wins_over_an_interval() -> None:
    manual = resolve_partition("2013-01-07", "2013-03-04T05:00:00+00:00", "2013-03-11T04:00:00+00:00", "week", NY)
    assert manual.start == date(2013, 1, 7) and manual.window == (local(2013, 1, 7), local(2013, 1, 14))
    assert resolve_partition("2013-02-01", "", "", "month", "UTC").start == date(2013, 2, 1)


def test_scheduled_and_backfill_runs_load_their_interval() -> None:
    for empty in ("", "None", None):
        partition = resolve_partition(empty, "2013-03-04T05:00:00+00:00", "2013-03-11T04:00:00+00:00", "week", NY)
        assert partition.start == date(2013, 3, 4)
    day = resolve_partition("", "2013-03-10T05:00:00+00:00", "2013-03-11T04:00:00+00:00", "day", NY)
    assert day.metadata()["partition_end"] == "2013-03-11T00:00:00-04:00"  # the 23-hour DST day


def test_a_manual_value_that_is_not_a_partition_start_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match=r"partition_date: 2013-01-09 \(Wednesday\) is not the start of a week "
                                         r"partition: week partitions start on a Monday; use 2013-01-07"):
        resolve_partition("2013-01-09", "", "", "week", NY)
    with pytest.raises(ValueError, match="first day of a month"):
        resolve_partition("2013-02-14", None, None, "month", NY)


def test_a_run_without_a_date_or_an_interval_says_what_to_set() -> None:
    with pytest.raises(ValueError, match="must set the 'partition_date' parameter"):
        resolve_partition("", "", "", "week", NY)
    with pytest.raises(ValueError, match="not an ISO date"):
        resolve_partition("next monday", "", "", "week", NY)
    with pytest.raises(ValueError, match="has no time zone"):
        resolve_partition("", "2013-03-04T05:00:00", "2013-03-11T04:00:00", "week", NY)


def test_a_partition_date_outside_the_source_range_is_refused_naming_the_parameter() -> None:
    bounds = (date(2013, 1, 1), date(2013, 12, 31))
    assert resolve_partition("2013-02-04", "", "", "day", NY, bounds).start == date(2013, 2, 4)
    for outside in ("1999-01-01", "2012-12-31", "2014-01-01", "2099-12-31"):
        with pytest.raises(ValueError, match=f"parameter 'partition_date': {outside} is outside the source's day "
                                             r"partitions \(2013-01-01 to 2013-12-31\)"):
            resolve_partition(outside, "None", "None", "day", NY, bounds)
    with pytest.raises(ValueError, match="parameter 'partition_date': 'yesterday' is not an ISO date"):
        resolve_partition("yesterday", "", "", "day", NY, bounds)

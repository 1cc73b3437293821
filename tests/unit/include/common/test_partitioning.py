"""Partition widths: starts, shifts, and which schedules line up with a width (no servers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from include.common.partitioning import (
    DEFAULT_SCHEDULES,
    amount,
    is_partition_start,
    last_day,
    partition_start,
    partition_starts,
    require_partition_start,
    schedule_problem,
    shift,
)
from include.common.usecase import USECASES_DIR, UseCaseError, load_usecase_file


def test_a_partition_is_named_by_its_start() -> None:
    wednesday = date(2013, 1, 9)
    assert partition_start(wednesday, "day") == wednesday
    assert partition_start(wednesday, "week") == date(2013, 1, 7)  # its Monday
    assert partition_start(wednesday, "month") == date(2013, 1, 1)
    assert is_partition_start(date(2013, 1, 7), "week") and not is_partition_start(wednesday, "week")
    assert last_day(date(2013, 1, 7), "week") == date(2013, 1, 13)
    assert last_day(date(2013, 2, 1), "month") == date(2013, 2, 28)
    assert last_day(date(2016, 2, 1), "month") == date(2016, 2, 29)


def test_shifting_by_partitions_crosses_years_both_ways() -> None:
    assert shift(date(2013, 11, 1), 3, "month") == date(2014, 2, 1)
    assert shift(date(2013, 1, 1), -1, "month") == date(2012, 12, 1)
    assert shift(date(2013, 1, 7), -2, "week") == date(2012, 12, 24)
    assert shift(date(2013, 3, 1), -1, "day") == date(2013, 2, 28)


def test_partition_starts_cover_a_range_from_the_partition_holding_its_first_day() -> None:
    assert partition_starts(date(2013, 1, 1), date(2013, 1, 20), "week") == [
        date(2012, 12, 31), date(2013, 1, 7), date(2013, 1, 14)]
    assert partition_starts(date(2013, 1, 15), date(2013, 3, 1), "month") == [
        date(2013, 1, 1), date(2013, 2, 1), date(2013, 3, 1)]


def test_a_day_that_starts_no_partition_is_refused_naming_the_starts_around_it() -> None:
    assert require_partition_start(date(2013, 1, 7), "week") == date(2013, 1, 7)
    with pytest.raises(ValueError, match=r"2013-01-09 \(Wednesday\) is not the start of a week partition.*"
                                         r"a Monday; use 2013-01-07 .* or 2013-01-14"):
        require_partition_start(date(2013, 1, 9), "week")
    with pytest.raises(ValueError, match="first day of a month; use 2013-02-01"):
        require_partition_start(date(2013, 2, 14), "month")


@pytest.mark.parametrize(("schedule", "width"), [
    ("@daily", "day"), ("0 0 * * *", "day"), ("00 00 * * *", "day"), ("0 0 * * 1", "week"),
    ("0 0 * * MON", "week"), ("@monthly", "month"), ("0 0 1 * *", "month"),
    *((schedule, width) for width, schedule in DEFAULT_SCHEDULES.items())])
def test_schedules_that_fire_at_every_partition_start_fit(schedule: str, width: str) -> None:
    assert schedule_problem(schedule, width) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(("schedule", "width"), [
    ("@monthly", "day"),      # would load each month's first day only
    ("@daily", "month"),      # would load a day into a month partition
    ("@weekly", "week"),      # Airflow's @weekly is Sunday midnight: weeks here run Monday to Sunday
    ("0 3 * * *", "day"),     # intervals 03:00 to 03:00
    ("0 0 * * 1-5", "day"),   # Friday's interval would run to Monday
    ("0 0 1 * 1", "month"),   # cron fires on the 1st OR on Mondays
    ("*/30 * * * *", "day"),
])
def test_schedules_that_do_not_line_up_are_named_with_the_width(schedule: str, width: str) -> None:
    problem = schedule_problem(schedule, width)  # type: ignore[arg-type]
    assert problem is not None and repr(schedule) in problem and repr(width) in problem
    assert repr(DEFAULT_SCHEDULES[width]) in problem


def test_nonsense_schedules_are_named() -> None:
    assert "not a valid cron expression" in str(schedule_problem("every day", "day"))
    assert "not a cron expression" in str(schedule_problem("@continuous", "day"))


def test_amounts_read_naturally() -> None:
    assert (amount("day", 1), amount("week", 2), amount("month", 3)) == ("1 day", "2 weeks", "3 months")


def write(tmp_path: Path, stem: str, **changes: object) -> Path:
    raw = yaml.safe_load((USECASES_DIR / "flights.yaml").read_text())
    raw.update(name=stem, **changes)
    for key in [key for key, value in changes.items() if value is None]:
        del raw[key]
    (tmp_path / "flights.expectations.json").write_text((USECASES_DIR / "flights.expectations.json").read_text())
    path = tmp_path / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_a_schedule_that_does_not_fit_the_width_fails_at_load_naming_both(tmp_path: Path) -> None:
    with pytest.raises(UseCaseError, match=r"schedule '@monthly' does not line up with partition_width 'day'"):
        load_usecase_file(write(tmp_path, "monthly_days", schedule="@monthly"))
    with pytest.raises(UseCaseError, match=r"schedule '0 6 \* \* 1' does not line up with partition_width 'week'"):
        load_usecase_file(write(tmp_path, "late_weeks", schedule="0 6 * * 1", partition_width="week"))
    with pytest.raises(UseCaseError, match="partition_width"):
        load_usecase_file(write(tmp_path, "hourly", partition_width="hour"))


def test_a_use_case_without_a_schedule_gets_the_one_its_width_implies(tmp_path: Path) -> None:
    weekly = load_usecase_file(write(tmp_path, "weekly", schedule=None, partition_width="week"))
    assert weekly.schedule == "0 0 * * 1" and weekly.partition_width == "week"
    monthly = load_usecase_file(write(tmp_path, "monthly", schedule=None, partition_width="month"))
    assert monthly.schedule == "@monthly"
    assert monthly.partition_range() == (date(2013, 1, 1), date(2013, 12, 1))
    assert weekly.partition_range() == (date(2012, 12, 31), date(2013, 12, 30))
    assert weekly.partition_path(date(2013, 1, 7)).endswith("flight_date=2013-01-07/part-0.parquet")
    with pytest.raises(ValueError, match="not the start of a week partition"):
        weekly.partition_path(date(2013, 1, 8))

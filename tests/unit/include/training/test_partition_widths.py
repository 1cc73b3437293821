"""Training windows, holdouts and guard rails count partitions of the use case's width (no servers)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from include.common.partitioning import partition_starts
from include.common.usecase import UseCase, load_usecase, load_usecase_file
from include.training.modeling import holdout_range, time_split
from include.training.service import PinnedData, TooFewDaysError, pin_window, run_settings_for
from include.training.trainer import RunSettings, training_window
from tests.conftest import FIXTURE_USECASES


def fixture(name: str) -> UseCase:
    return load_usecase_file(FIXTURE_USECASES / f"{name}.yaml")


def test_the_holdout_is_the_last_partitions_through_the_last_day_of_the_window() -> None:
    assert holdout_range(date(2013, 1, 21), 7) == (date(2013, 1, 15), date(2013, 1, 21))  # days: as before
    assert holdout_range(date(2013, 3, 25), 2, "week") == (date(2013, 3, 18), date(2013, 3, 31))
    assert holdout_range(date(2013, 3, 1), 1, "month") == (date(2013, 3, 1), date(2013, 3, 31))
    assert holdout_range(date(2013, 3, 1), 2, "month") == (date(2013, 2, 1), date(2013, 3, 31))
    assert holdout_range(date(2013, 3, 27), 2, "week") == (date(2013, 3, 18), date(2013, 3, 31))  # a day inside


def test_a_window_is_the_last_n_partition_periods_and_a_gap_is_not_made_up_for() -> None:
    weeks = partition_starts(date(2013, 1, 7), date(2013, 4, 1), "week")  # 13 Mondays
    assert training_window(weeks, 13, width="week") == weeks
    assert training_window(weeks, 4, width="week") == weeks[-4:]
    assert training_window(weeks, 4, end=date(2013, 2, 6), width="week") == weeks[1:5]  # end: a Wednesday
    gapped = [w for w in weeks if w != weeks[-2]]
    assert training_window(gapped, 4, width="week") == [weeks[-4], weeks[-3], weeks[-1]]
    months = [date(2013, m, 1) for m in range(1, 7)]
    assert training_window(months, 3, width="month") == months[-3:]
    assert training_window(months, 2, end=date(2013, 2, 14), width="month") == months[:2]


def test_run_settings_carry_the_width_and_old_settings_read_as_days() -> None:
    weekly = fixture("flights_weekly")
    pinned = PinnedData("flights-weekly", "c", "main", date(2013, 1, 7), date(2013, 3, 25), 12)
    settings = run_settings_for(weekly, pinned)
    assert settings.partition_width == "week" and settings.holdout_range == (date(2013, 3, 18), date(2013, 3, 31))
    assert RunSettings.from_json(settings.to_json()) == settings
    old = RunSettings.from_json(settings.to_json().replace('"partition_width": "week",', ""))
    assert old.partition_width == "day" and old.holdout_range == (date(2013, 3, 24), date(2013, 3, 25))
    assert settings.mlflow_params("regression")["partition_width"] == "week"


def test_the_guard_rails_count_partitions() -> None:
    weekly, monthly = fixture("flights_weekly"), fixture("flights_monthly")  # 2 + 4 weeks; 1 + 2 months
    weeks = partition_starts(date(2013, 1, 7), date(2013, 4, 1), "week")
    assert pin_window(weekly, weeks, 13, None) == weeks
    with pytest.raises(TooFewDaysError, match=r"5 week partitions in the window \(2013-03-04 to 2013-04-01\); "
                                              r"training needs at least 6 \(4 to train \+ 2 held out\)"):
        pin_window(weekly, weeks, 5, None)
    months = [date(2013, 1, 1), date(2013, 2, 1), date(2013, 3, 1)]
    assert pin_window(monthly, months, 3, None) == months
    with pytest.raises(TooFewDaysError, match="2 month partitions"):
        pin_window(monthly, months[1:], 3, None)
    days = [date(2013, 1, 1) + timedelta(days=d) for d in range(30)]
    with pytest.raises(TooFewDaysError, match="20 partition days"):  # daily use cases read as before
        pin_window(load_usecase("flights"), days, 20, None)


def test_the_time_split_holds_out_whole_partitions_by_the_start_each_row_carries() -> None:
    weekly = fixture("flights_weekly")
    weeks = partition_starts(date(2013, 1, 7), date(2013, 2, 25), "week")
    frame = pd.DataFrame({"week_start": [w.isoformat() for w in weeks for _ in range(3)], "y": range(24)})
    split = time_split(frame, weekly.partition_column, holdout_range(weeks[-1], 2, "week"))
    assert sorted(set(split.holdout["week_start"])) == ["2013-02-18", "2013-02-25"]
    assert len(split.train) == 18 and split.train_days == (date(2013, 1, 7), date(2013, 2, 17))


def test_fixture_use_cases_declare_their_widths_and_matching_schedules() -> None:
    weekly, monthly = fixture("flights_weekly"), fixture("flights_monthly")
    assert (weekly.partition_width, weekly.schedule) == ("week", "0 0 * * 1")
    assert (monthly.partition_width, monthly.schedule) == ("month", "@monthly")
    assert weekly.partition_path(date(2013, 1, 7)) == "curated/flights_weekly/week_start=2013-01-07/part-0.parquet"
    assert monthly.partition_path(date(2013, 2, 1)) == \
        "curated/flights_monthly/month_start=2013-02-01/part-0.parquet"
    assert weekly.lakefs_repository != monthly.lakefs_repository
    assert weekly.require_training().registered_model != monthly.require_training().registered_model

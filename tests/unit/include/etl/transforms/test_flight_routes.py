"""Daily route aggregates for weekly and monthly partitions, from the offline source tables (no servers)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import pandas as pd
import pytest

from include.common.partitioning import last_day
from include.common.usecase import UseCase, load_usecase_file
from include.etl.source_seed import SOURCE_TABLES, load_dataset
from include.etl.validation import load_suite, validate_partition
from include.etl.windows import partition_at
from tests.conftest import FIXTURE_USECASES


@cache
def source_table(name: str) -> pd.DataFrame:
    """A source table as the seed loads it (shared: do not modify)."""
    return load_dataset(next(table for table in SOURCE_TABLES if table.name == name))


def window_frames(usecase: UseCase, start: date) -> dict[str, pd.DataFrame]:
    """What the fixture's two queries return for the partition starting at ``start``."""
    window = partition_at(start, usecase.partition_width, usecase.source.timezone).window
    low, high = (pd.Timestamp(bound).tz_convert("UTC") for bound in window)
    frames = {}
    for table, columns in {"flights": ["year", "month", "day", "hour", "carrier", "origin", "dest", "distance",
                                       "arr_delay"],
                           "weather": ["origin", "year", "month", "day", "temp", "wind_speed", "visib", "precip"]
                           }.items():
        rows = source_table(table)
        stamps = pd.to_datetime(rows["time_hour"], utc=True)
        selected = rows.loc[(stamps >= low) & (stamps < high), columns].reset_index(drop=True)
        ints = [c for c in ("year", "month", "day", "hour") if c in columns]
        frames[table] = selected.astype({c: "int64" for c in ints}).astype({"distance": "float64"} if
                                                                             "distance" in columns else {})
    return frames


@pytest.mark.parametrize(("name", "start"), [("flights_weekly", date(2013, 3, 4)),
                                             ("flights_monthly", date(2013, 2, 1))])
def test_a_partition_has_one_row_per_day_and_route_and_counts_every_source_flight(name: str, start: date) -> None:
    usecase = load_usecase_file(FIXTURE_USECASES / f"{name}.yaml")
    frames = window_frames(usecase, start)
    curated = usecase.transform_function()(frames, start)

    assert curated["departures"].sum() == len(frames["flights"])
    flights = frames["flights"]
    routes = flights.groupby(["year", "month", "day", "origin", "dest"]).ngroups
    assert len(curated) == routes and not curated.duplicated(usecase.key_columns).any()
    assert set(curated[usecase.partition_column]) == {start.isoformat()}
    days = pd.to_datetime(curated["flight_date"]).dt.date
    assert days.min() == start and days.max() == last_day(start, usecase.partition_width)
    assert curated.equals(curated.sort_values(usecase.key_columns, kind="stable").reset_index(drop=True))
    assert curated["delay_rate"].dropna().between(0, 1).all()
    assert (curated["arrived"] <= curated["departures"]).all() and curated["temp"].notna().mean() > 0.9
    window = partition_at(start, usecase.partition_width, usecase.source.timezone).window
    report = validate_partition(curated, load_suite(usecase.suite_path), (1, 10**6, "test"), window=window)
    assert report.success, report.failure_summary()
    later = partition_at(last_day(start, usecase.partition_width) + timedelta(days=1), usecase.partition_width,
                         usecase.source.timezone).window  # the next partition's window: no row lies in it
    wrong = validate_partition(curated, load_suite(usecase.suite_path), (1, 10**6, "test"), window=later)
    assert "flight_date lies in the partition's window" in wrong.failure_summary()


def test_an_empty_window_gives_an_empty_partition_that_validation_refuses() -> None:
    usecase = load_usecase_file(FIXTURE_USECASES / "flights_weekly.yaml")
    frames = {name: frame.iloc[0:0] for name, frame in window_frames(usecase, date(2013, 3, 4)).items()}
    curated = usecase.transform_function()(frames, date(2013, 3, 4))
    assert curated.empty and "week_start" in curated.columns
    assert not validate_partition(curated, load_suite(usecase.suite_path), (1, 10, "test")).success


def test_a_week_across_the_dst_change_keeps_its_local_days() -> None:
    usecase = load_usecase_file(FIXTURE_USECASES / "flights_weekly.yaml")
    curated = usecase.transform_function()(window_frames(usecase, date(2013, 3, 4)), date(2013, 3, 4))
    assert sorted(set(curated["flight_date"])) == [(date(2013, 3, 4) + timedelta(days=d)).isoformat()
                                                   for d in range(7)]

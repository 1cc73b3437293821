from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from include.etl.partitions import (
    checksum,
    parse_partition_date,
    partition_metadata,
    read_parquet_bytes,
    row_count_bounds,
    source_window,
    to_parquet_bytes,
)


def test_partition_date_is_the_iso_day_of_a_date_or_timestamp() -> None:
    assert parse_partition_date("2013-02-20") == date(2013, 2, 20)
    assert parse_partition_date("2013-02-20T00:00:00+00:00") == date(2013, 2, 20)
    for missing in (None, "", "None"):
        with pytest.raises(ValueError, match="must set the 'partition_date' parameter"):
            parse_partition_date(missing)
    with pytest.raises(ValueError, match="not an ISO date"):
        parse_partition_date("yesterday")


def test_partition_metadata_names_the_day_and_its_source_window() -> None:
    assert partition_metadata(date(2013, 3, 10), "America/New_York") == {
        "partition": "2013-03-10", "partition_start": "2013-03-10T00:00:00-05:00",
        "partition_end": "2013-03-11T00:00:00-04:00"}


def test_source_window_is_local_midnight_to_midnight_across_dst() -> None:
    start, end = source_window(date(2013, 3, 10), "America/New_York")  # DST starts: a 23-hour day
    assert start == datetime(2013, 3, 10, tzinfo=ZoneInfo("America/New_York"))
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 23 * 3600


def test_parquet_bytes_are_reproducible_and_round_trip() -> None:
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", None], "c": pd.array([True, None], dtype="boolean")})
    first, second = to_parquet_bytes(frame), to_parquet_bytes(frame.copy())
    assert first == second and checksum(first) == checksum(second)
    pd.testing.assert_frame_equal(read_parquet_bytes(first), frame)


def test_row_count_bounds_use_defaults_without_history_and_learn_from_it() -> None:
    assert row_count_bounds([], 400, 1500, 0.5)[:2] == (400, 1500)
    low, high, reason = row_count_bounds([800, 1000, 900], 400, 1500, 0.5)
    assert (low, high) == (400, 1501) and "3 recent partitions" in reason


def test_row_count_bounds_never_allow_an_empty_partition() -> None:
    assert row_count_bounds([1], 1, 10, 0.9)[0] == 1

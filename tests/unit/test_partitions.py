from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from include.etl.partitions import checksum, read_parquet_bytes, row_count_bounds, source_window, to_parquet_bytes


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

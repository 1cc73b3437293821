"""The arrow engine's per-expectation rules, each against what pandas (GX's engine) computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from include.etl.fast_validation import (
    SUPPORTED,
    UnsupportedExpectation,
    compound_unique,
    mostly_success,
    validate_file,
)
from include.etl.row_conditions import UnsupportedCondition


def parquet(frame: pd.DataFrame, path: Path, row_group_size: int = 3) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return path


def suite(*expectations: dict) -> dict:
    return {"name": "t", "expectations": list(expectations)}


def outcomes(path: Path, *expectations: dict) -> list:
    report = validate_file(path, suite(*expectations), (0, 100, "test"), batch_rows=3)
    return [(o.success, o.element_count, o.unexpected_count) for o in report.outcomes[:-1]]  # minus the row count


FRAME = pd.DataFrame({
    "a": [1.0, np.nan, 3.0, 4.0, 50.0, np.nan, 7.0],
    "s": ["x", "y", None, "zz", "x", "y", "x"],
    "b": [True, False, True, True, False, False, True],
    "k": [1, 1, 2, 3, 3, 3, 4],
})


def test_column_map_rules_count_like_gx(tmp_path: Path) -> None:
    path = parquet(FRAME, tmp_path / "f.parquet")
    got = outcomes(
        path,
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a", "mostly": 0.7}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 1, "max_value": 10}},
        {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": ["x", "y"]}},
        {"type": "expect_column_values_to_not_be_in_set", "kwargs": {"column": "s", "value_set": ["x"]}},
        {"type": "expect_column_value_lengths_to_equal", "kwargs": {"column": "s", "value": 1}},
        {"type": "expect_column_values_to_be_null", "kwargs": {"column": "a", "row_condition": "b == False",
                                                               "condition_parser": "pandas"}})
    assert got == [(False, 7, 2), (True, 7, 2), (False, 7, 1), (False, 7, 1), (False, 7, 3), (False, 7, 1),
                   (False, 3, 1)]


def test_mostly_is_measured_on_the_considered_rows() -> None:
    assert mostly_success(0, 0, 1.0) and mostly_success(10, 1, 0.9) and not mostly_success(10, 2, 0.9)


def test_compound_keys_count_every_duplicated_row_like_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"d": ["a", "a", "b", None, None, "a", None], "n": [1, 1, 1, 2, 2, 2, None]})
    path = parquet(frame.astype({"n": "float64"}), tmp_path / "k.parquet")
    spec = {"type": "expect_compound_columns_to_be_unique", "kwargs": {"column_list": ["d", "n"]}}
    result = compound_unique(path, spec)
    considered = frame[~frame.isna().all(axis=1)]
    assert result.unexpected_count == int(considered.duplicated(keep=False).sum()) == 4
    assert not result.success and result.element_count == 7


def test_values_unique_within_record_skips_all_missing_rows(tmp_path: Path) -> None:
    frame = pd.DataFrame({"o": ["EWR", "JFK", None, None], "d": ["EWR", "LAX", "BOS", None]})
    got = outcomes(parquet(frame, tmp_path / "r.parquet"),
                   {"type": "expect_select_column_values_to_be_unique_within_record",
                    "kwargs": {"column_list": ["o", "d"]}})
    assert got == [(False, 4, 1)]


def test_type_lists_compare_the_pandas_dtype(tmp_path: Path) -> None:
    path = parquet(FRAME, tmp_path / "t.parquet")
    report = validate_file(path, suite(*[
        {"type": "expect_column_values_to_be_in_type_list", "kwargs": {"column": c, "type_list": types}}
        for c, types in [("k", ["int64"]), ("a", ["int64"]), ("b", ["bool"]), ("s", ["str", "object"])]]),
        (0, 100, "test"))
    assert [o.success for o in report.outcomes[:-1]] == [True, False, True, True]
    assert report.outcomes[1].observed == "float64"


def test_table_expectations_and_run_time_row_count(tmp_path: Path) -> None:
    path = parquet(FRAME, tmp_path / "c.parquet")
    report = validate_file(path, suite({"type": "expect_table_columns_to_match_set",
                                        "kwargs": {"column_set": ["a", "s", "b", "k"], "exact_match": True}}),
                           (8, 10, "history"))
    assert [(o.type, o.success) for o in report.outcomes] == [
        ("expect_table_columns_to_match_set", True), ("expect_table_row_count_to_be_between", False)]
    assert not report.success and report.report().failure_summary().startswith("1 of 2 expectations failed on 7")


def test_unknown_expectations_and_conditions_are_refused_before_reading(tmp_path: Path) -> None:
    path = parquet(FRAME, tmp_path / "u.parquet")
    with pytest.raises(UnsupportedExpectation, match="expect_column_mean_to_be_between"):
        validate_file(path, suite({"type": "expect_column_mean_to_be_between", "kwargs": {"column": "a"}}),
                      (0, 9, ""))
    with pytest.raises(UnsupportedExpectation, match="not columns"):
        validate_file(path, suite({"type": "expect_column_values_to_not_be_null",
                                   "kwargs": {"column": "a", "row_condition": "zz > 1"}}), (0, 9, ""))
    with pytest.raises(UnsupportedExpectation, match="ignore_row_if"):
        validate_file(path, suite({"type": "expect_compound_columns_to_be_unique",
                                   "kwargs": {"column_list": ["a", "s"], "ignore_row_if": "never"}}), (0, 9, ""))
    with pytest.raises(UnsupportedCondition):
        validate_file(path, suite({"type": "expect_column_values_to_not_be_null",
                                   "kwargs": {"column": "a", "row_condition": "a.between(1, 2)"}}), (0, 9, ""))


def test_every_flights_expectation_type_is_supported() -> None:
    import json

    flights = json.loads(Path("include/usecases/flights.expectations.json").read_text())
    assert {e["type"] for e in flights["expectations"]} <= SUPPORTED

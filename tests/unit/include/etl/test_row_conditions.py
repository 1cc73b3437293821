"""Row conditions on Arrow batches give exactly the rows ``DataFrame.query`` keeps (pandas null semantics)."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from include.etl.row_conditions import (
    ConditionError,
    UnsupportedCondition,
    column_value,
    condition_columns,
    evaluate,
    pandas_dtypes,
)
from include.etl.validation import row_condition
from tests.support.scale_data import broken, curated_days


@cache
def sample(damaged: bool) -> pd.DataFrame:
    frame = curated_days(date(2013, 3, 9), 3)
    return broken(frame, seed=7) if damaged else frame


def kept_by_arrow(frame: pd.DataFrame, condition: str) -> np.ndarray:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    dtypes = pandas_dtypes(table.schema, {name: table[name].null_count > 0 for name in table.column_names})
    batch = table.combine_chunks().to_batches()[0]
    return evaluate(condition, lambda name: column_value(batch.column(name), dtypes[name]), batch.num_rows)


def flights_conditions() -> list[str]:
    suite = json.loads(Path("include/usecases/flights.expectations.json").read_text())
    return sorted({c for e in suite["expectations"] if (c := row_condition(e["kwargs"]))})


@pytest.mark.parametrize("condition", flights_conditions())
def test_every_flights_condition_keeps_the_rows_pandas_keeps(condition: str) -> None:
    frame = sample(damaged=True)
    expected = frame.index.isin(frame.query(condition).index)
    assert np.array_equal(kept_by_arrow(frame, condition), expected)


@pytest.mark.parametrize("condition", [
    "a > 1", "a != 2", "b != 2", "a + b > 2", "a > 1 and b < 3", "a > 1 or b < 3", "~(a > 1)", "a // 2 == 1",
    "a % 3 != 0 or b.isna()", "a.notna() and a * 2 >= b", "-a < -1", "c == False", "s != 'x'", "s == 'y'"])
def test_masked_numbers_nan_and_missing_text_follow_pandas(condition: str) -> None:
    frame = pd.DataFrame({"a": pd.array([1, None, 3, 2, None, 5], dtype="Int64"),
                          "b": [np.nan, 1.0, 2.0, np.nan, 4.0, 0.5], "c": [True, False, True, False, True, False],
                          "s": ["x", None, "y", "x", "z", None]})
    expected = frame.index.isin(frame.query(condition).index)
    assert np.array_equal(kept_by_arrow(frame, condition), expected)


def test_unsupported_syntax_is_refused_not_guessed() -> None:
    frame = pd.DataFrame({"a": [1, 2]})
    for condition in ("a.between(1, 2)", "a in [1, 2]", "1 < a < 3", "@a > 1", "a.str.len() > 1"):
        with pytest.raises(UnsupportedCondition):
            kept_by_arrow(frame, condition)


def test_dates_that_pandas_cannot_parse_are_an_error() -> None:
    frame = pd.DataFrame({"d": ["2013-01-01", "2013-02-30"], "w": [1, 2]})
    with pytest.raises(ConditionError):
        kept_by_arrow(frame, "w != d.astype('datetime64[ns]').dt.weekday")


def test_the_columns_a_condition_reads() -> None:
    assert condition_columns("dep_time.notna() and hour != sched_dep_time // 100") == {
        "dep_time", "hour", "sched_dep_time"}


def test_dtypes_are_those_to_pandas_gives() -> None:
    frame = sample(damaged=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    dtypes = pandas_dtypes(table.schema, {name: table[name].null_count > 0 for name in table.column_names})
    assert dtypes == {name: str(dtype) for name, dtype in table.to_pandas().dtypes.items()}

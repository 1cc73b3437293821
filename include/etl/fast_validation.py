"""A GX expectation suite evaluated on Parquet with ``pyarrow`` in bounded memory, same results as GX.

``include.etl.validation`` runs Great Expectations on a pandas frame: right for a daily partition
(~900 rows), but at 10M rows GX needs minutes and several GB (GUIDE section 1). This engine reads the
file in record batches and evaluates every expectation of the suite per batch with ``pyarrow.compute``
and numpy, summing counts; the only expectation that needs all rows at once,
``expect_compound_columns_to_be_unique``, reads just its key columns and finds duplicates of a
mixed-radix integer key by sorting. Results are GX's: per expectation the same success flag,
``element_count`` and ``unexpected_count``, computed with GX 1.24's rules for the pandas engine:

- column map expectations count ``unexpected`` among non-null values of the rows their
  ``row_condition`` keeps, ``mostly`` compares ``(nonnull - unexpected) / nonnull``; ``*_be_null``
  count nulls (or non-nulls) over all kept rows;
- row conditions are pandas query strings, evaluated by ``include.etl.row_conditions`` with pandas'
  null semantics for the dtypes ``pyarrow``'s ``to_pandas`` gives each column (``pandas_dtypes``);
- ``expect_column_values_to_be_in_type_list`` compares that pandas dtype (object columns: the Python
  type of the values: Arrow strings are ``str``).

An expectation type outside ``SUPPORTED`` (or an unsupported row condition) raises
``UnsupportedExpectation`` before any data is read. ``FastReport.report()`` turns the outcomes into
the ETL's ``ValidationReport`` (warnings by ``meta.severity``), without example values.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dateutil.parser import parse as parse_datetime  # type: ignore[import-untyped]

from include.common.parquet_batches import is_text, record_batches, text_columns
from include.etl.row_conditions import (
    ConditionError,
    Num,
    UnsupportedCondition,
    Value,
    column_value,
    condition_columns,
    decoded,
    evaluate,
    pandas_dtypes,
)
from include.etl.validation import FailedExpectation, ValidationReport, row_condition, with_row_count, with_window

BATCH_ROWS = 1 << 20
COLUMN_MAP = {"expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
              "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
              "expect_column_values_to_be_between", "expect_column_value_lengths_to_equal"}
SUPPORTED = COLUMN_MAP | {"expect_table_columns_to_match_set", "expect_table_row_count_to_be_between",
                          "expect_column_values_to_be_in_type_list", "expect_compound_columns_to_be_unique",
                          "expect_select_column_values_to_be_unique_within_record"}


class UnsupportedExpectation(ValueError):
    """The suite has an expectation this engine does not evaluate (use GX for it)."""


@dataclass(frozen=True)
class Outcome:
    """One expectation's result, the fields GX reports in ``SUMMARY`` format (minus examples)."""

    type: str
    kwargs: dict[str, Any]
    success: bool
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: Any = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    @property
    def warning(self) -> bool:
        return self.meta.get("severity") == "warning"

    def failed(self) -> FailedExpectation:
        return FailedExpectation(self.type, self.kwargs, self.unexpected_count, self.element_count, self.observed,
                                 [], self.error, self.description)


@dataclass
class FastReport:
    outcomes: list[Outcome]
    row_count: int
    row_count_bounds: tuple[int, int]
    row_count_reason: str

    @property
    def success(self) -> bool:
        return all(o.success or o.warning for o in self.outcomes)

    def report(self) -> ValidationReport:
        """The ETL's report type (as ``validate_partition`` returns it; no example values)."""
        unmet = [o for o in self.outcomes if not o.success]
        return ValidationReport(
            success=self.success, evaluated=len(self.outcomes), successful=len(self.outcomes) - len(unmet),
            row_count=self.row_count, row_count_bounds=self.row_count_bounds, row_count_reason=self.row_count_reason,
            failed=[o.failed() for o in unmet if not o.warning], warnings=[o.failed() for o in unmet if o.warning],
            result_json=json.dumps({"engine": "arrow", "results": [o.__dict__ for o in self.outcomes]}, default=str))


class Batch:
    """One record batch with per-batch caches of column values and row-condition masks."""

    def __init__(self, batch: pa.RecordBatch, dtypes: dict[str, str]) -> None:
        self.batch, self.dtypes, self.rows = batch, dtypes, batch.num_rows
        self.values: dict[str, Value] = {}
        self.conditions: dict[str, np.ndarray] = {}
        self.nulls: dict[str, np.ndarray] = {}

    def array(self, name: str) -> pa.Array:
        return self.batch.column(name)

    def value(self, name: str) -> Value:
        if name not in self.values:
            self.values[name] = column_value(self.array(name), self.dtypes[name])
        return self.values[name]

    def numbers(self, name: str) -> np.ndarray | None:
        """A numeric column's values as numpy (None for text, times, booleans)."""
        if self.dtypes[name].lower().startswith(("int", "uint", "float")):
            value = self.value(name)
            return value.data if isinstance(value, Num) else None
        return None

    def kept(self, condition: str | None) -> np.ndarray | None:
        """The rows ``condition`` keeps (None: all rows)."""
        if not condition:
            return None
        if condition not in self.conditions:
            self.conditions[condition] = evaluate(condition, self.value, self.rows)
        return self.conditions[condition]

    def missing(self, name: str) -> np.ndarray:
        """Null (or NaN) per row: what pandas' ``isnull`` sees."""
        if name not in self.nulls:
            self.nulls[name] = self.array(name).is_null(nan_is_null=True).to_numpy(zero_copy_only=False)
        return self.nulls[name]


def as_numpy(result: pa.Array | pa.ChunkedArray, null_as: bool = False) -> np.ndarray:
    return result.fill_null(null_as).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]


def count(mask: np.ndarray, kept: np.ndarray | None) -> int:
    return int(np.count_nonzero(mask if kept is None else mask & kept))


def mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """GX's rule: vacuously true on no rows, else the share of expected rows reaches ``mostly``."""
    return considered == 0 or (considered - unexpected) / considered >= mostly


def scalar_for(array: pa.Array, value: Any) -> Any:
    """A bound as the column compares it: ISO strings are parsed for timestamp columns (as GX does)."""
    if pa.types.is_timestamp(array.type) and isinstance(value, str):
        return pa.scalar(parse_datetime(value), type=array.type)
    return value


def per_value(array: pa.Array, function: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``function`` of each value; on a dictionary-encoded column, of each dictionary entry (spread back)."""
    if pa.types.is_dictionary(array.type):
        return function(array.dictionary).take(array.indices)
    return function(array)


def unexpected_mask(kind: str, kwargs: dict[str, Any], array: pa.Array, numbers: np.ndarray | None = None
                    ) -> np.ndarray:
    """Per row: is a (non-null) value unexpected for column map expectation ``kind`` (``numbers``: the column
    as numpy numbers when it is numeric)."""
    if kind in ("expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set"):
        inside = as_numpy(per_value(array, lambda values: pc.is_in(
            values, value_set=pa.array(kwargs["value_set"]).cast(values.type))))
        return inside if "_not_be_" in kind else ~inside
    if kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if numbers is not None:  # numpy on the batch's cached numbers (missing rows are excluded by the caller)
            with np.errstate(invalid="ignore"):
                inside = np.ones(len(numbers), bool)
                if low is not None:
                    inside &= numbers > low if kwargs.get("strict_min") else numbers >= low
                if high is not None:
                    inside &= numbers < high if kwargs.get("strict_max") else numbers <= high
            return ~inside
        ok = np.ones(len(array), bool)
        if low is not None:
            compare = pc.greater if kwargs.get("strict_min") else pc.greater_equal
            ok &= as_numpy(compare(decoded(array), scalar_for(array, low)))
        if high is not None:
            compare = pc.less if kwargs.get("strict_max") else pc.less_equal
            ok &= as_numpy(compare(decoded(array), scalar_for(array, high)))
        return ~ok
    if kind == "expect_column_value_lengths_to_equal":
        return ~as_numpy(per_value(array, lambda values: pc.equal(pc.utf8_length(values), kwargs["value"])))
    raise UnsupportedExpectation(kind)


class Check(Protocol):
    def update(self, batch: Batch) -> None: ...

    def outcome(self) -> Outcome: ...


@dataclass
class ColumnMapCheck:
    """A column map expectation: counts summed over batches (see the module docstring for GX's rules)."""

    spec: dict[str, Any]
    element_count: int = 0
    null_count: int = 0
    unexpected_count: int = 0
    error: str | None = None

    def update(self, batch: Batch) -> None:
        if self.error:
            return
        kind, kwargs = self.spec["type"], self.spec["kwargs"]
        try:
            kept = batch.kept(row_condition(kwargs))
        except ConditionError as error:
            self.error = str(error)
            return
        missing = batch.missing(kwargs["column"])
        self.element_count += batch.rows if kept is None else int(np.count_nonzero(kept))
        nulls = count(missing, kept)
        self.null_count += nulls
        if kind == "expect_column_values_to_not_be_null":
            self.unexpected_count += nulls
        elif kind == "expect_column_values_to_be_null":
            self.unexpected_count += count(~missing, kept)
        else:
            column = kwargs["column"]
            unexpected = unexpected_mask(kind, kwargs, batch.array(column), batch.numbers(column))
            self.unexpected_count += count(unexpected & ~missing, kept)

    def outcome(self) -> Outcome:
        kind, mostly = self.spec["type"], float(self.spec["kwargs"].get("mostly", 1.0))
        if self.error:
            return outcome(self.spec, False, error=self.error)
        if kind in ("expect_column_values_to_not_be_null", "expect_column_values_to_be_null"):
            success = mostly_success(self.element_count, self.unexpected_count, mostly)
        else:
            success = mostly_success(self.element_count - self.null_count, self.unexpected_count, mostly)
        return outcome(self.spec, success, self.element_count, self.unexpected_count)


@dataclass
class DistinctWithinRecordCheck:
    """``expect_select_column_values_to_be_unique_within_record``: no two of the columns share a value in a row
    (pandas ``nunique(dropna=False, axis=1)``: two missing values count as equal); all-missing rows are skipped."""

    spec: dict[str, Any]
    element_count: int = 0
    considered: int = 0
    unexpected_count: int = 0

    def update(self, batch: Batch) -> None:
        kwargs = self.spec["kwargs"]
        kept = batch.kept(row_condition(kwargs))
        columns = kwargs["column_list"]
        missing = [batch.missing(c) for c in columns]
        duplicate = np.zeros(batch.rows, bool)
        for i, first in enumerate(columns):
            for j in range(i + 1, len(columns)):
                equal = as_numpy(pc.equal(decoded(batch.array(first)), decoded(batch.array(columns[j]))))
                duplicate |= equal | (missing[i] & missing[j])
        considered = ~np.logical_and.reduce(missing)
        self.element_count += batch.rows if kept is None else int(np.count_nonzero(kept))
        self.considered += count(considered, kept)
        self.unexpected_count += count(duplicate & considered, kept)

    def outcome(self) -> Outcome:
        mostly = float(self.spec["kwargs"].get("mostly", 1.0))
        return outcome(self.spec, mostly_success(self.considered, self.unexpected_count, mostly), self.element_count,
                       self.unexpected_count)


@dataclass
class TypeListCheck:
    """``expect_column_values_to_be_in_type_list`` on the column's pandas dtype (object: the values' type)."""

    spec: dict[str, Any]
    dtype: str
    arrow_type: pa.DataType
    element_count: int = 0
    nonnull: int = 0

    def update(self, batch: Batch) -> None:
        if self.dtype == "object":
            self.element_count += batch.rows
            self.nonnull += batch.rows - int(np.count_nonzero(batch.missing(self.spec["kwargs"]["column"])))

    def outcome(self) -> Outcome:
        accepted = self.spec["kwargs"]["type_list"]
        if self.dtype != "object":
            success = any(self.dtype == normalised_dtype(name) for name in accepted)
            return outcome(self.spec, success, observed=observed_type(self.dtype))
        python_type = python_type_of(self.arrow_type)
        unexpected = 0 if python_type in {name.lower() for name in accepted} else self.nonnull
        return outcome(self.spec, mostly_success(self.nonnull, unexpected, float(self.spec["kwargs"].get("mostly", 1))),
                       self.element_count, unexpected)


def normalised_dtype(name: str) -> str:
    """A type-list entry as a dtype name (``int`` -> ``int64``, ``Int64`` stays); unknown names as given."""
    import pandas as pd

    try:
        return str(pd.api.types.pandas_dtype(name))
    except TypeError:
        return name


def observed_type(dtype: str) -> str:
    """GX reports ``dtype.type.__name__`` (``int64``, ``float64``, ``bool_``, ``Int64Dtype``...)."""
    import pandas as pd

    return str(pd.api.types.pandas_dtype(dtype).type.__name__)


def python_type_of(arrow_type: pa.DataType) -> str:
    """The Python type of an object column's values (what GX's per-value check sees)."""
    if is_text(arrow_type):
        return "str"
    if pa.types.is_boolean(arrow_type):
        return "bool"
    raise UnsupportedExpectation(f"type list check of an object column of Arrow type {arrow_type}")


def outcome(spec: dict[str, Any], success: bool, element_count: int | None = None, unexpected: int | None = None,
            observed: Any = None, error: str | None = None) -> Outcome:
    return Outcome(spec["type"], dict(spec["kwargs"]), success, element_count, unexpected, observed, error,
                   dict(spec.get("meta") or {}), spec.get("description"))


def compound_unique(path: Path, spec: dict[str, Any]) -> Outcome:
    """``expect_compound_columns_to_be_unique``: rows whose key occurs more than once (pandas
    ``duplicated(keep=False)``; missing values equal each other), rows with every key column missing skipped."""
    kwargs = spec["kwargs"]  # checks_for refused a row condition and other ignore_row_if values
    text = set(text_columns(path))
    rows = pq.ParquetFile(path).metadata.num_rows
    key, missing_all = np.zeros(rows, np.uint64), np.ones(rows, bool)
    capacity = 1
    for name in kwargs["column_list"]:  # one column at a time: memory stays near the key's 8 bytes per row
        column = pq.read_table(path, columns=[name], read_dictionary=[name] if name in text else None)
        codes, cardinality = column_codes(column.unify_dictionaries().column(name))
        del column
        missing_all &= codes == cardinality - 1
        capacity *= cardinality
        if capacity >= 1 << 63:
            raise UnsupportedExpectation(f"{spec['type']}: the key's value combinations exceed 64 bits")
        key *= np.uint64(cardinality)
        key += codes.astype(np.uint64)
        del codes
    if missing_all.any():
        key = key[~missing_all]
    key.sort()
    if len(key) < 2:
        return outcome(spec, True, len(missing_all), 0)
    same = key[1:] == key[:-1]
    duplicated = np.zeros(len(key), bool)
    duplicated[1:] |= same
    duplicated[:-1] |= same
    unexpected = int(np.count_nonzero(duplicated))
    considered = len(key)
    return outcome(spec, mostly_success(considered, unexpected, float(kwargs.get("mostly", 1.0))),
                   len(missing_all), unexpected)


def column_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Dense codes ``0..n-1`` of a column's values, missing values last (code ``n``); returns ``n + 1``.
    Dictionary-encoded columns must share one dictionary (``Table.unify_dictionaries``)."""
    if pa.types.is_dictionary(column.type):
        chunks = column.chunks
        cardinality = len(chunks[0].dictionary) if chunks else 0
        codes = np.concatenate([c.indices.fill_null(cardinality).to_numpy(zero_copy_only=False).astype(np.int64)
                                for c in chunks]) if chunks else np.zeros(0, np.int64)
        return codes, cardinality + 1
    array = column.combine_chunks()
    if pa.types.is_integer(array.type):
        values = array.to_numpy(zero_copy_only=False) if not array.null_count else None
        if values is not None and len(values):
            low, high = int(values.min()), int(values.max())
            if high - low < 1 << 40:
                return (values - low).astype(np.int64), high - low + 2
    encoded = pc.dictionary_encode(array)
    cardinality = len(encoded.dictionary)
    codes = encoded.indices.fill_null(cardinality).to_numpy(zero_copy_only=False).astype(np.int64)
    nan = pc.is_nan(encoded.dictionary) if pa.types.is_floating(array.type) else None
    if nan is not None and pc.any(nan).as_py():  # NaN is missing too (pandas)
        codes[np.isin(codes, np.flatnonzero(as_numpy(nan)))] = cardinality
    return codes, cardinality + 1


def checks_for(suite: dict[str, Any], schema: pa.Schema, dtypes: dict[str, str]) -> list[Check | dict[str, Any]]:
    """One accumulator per expectation; table-level and compound ones stay specs (done apart)."""
    unsupported = sorted({str(e["type"]) for e in suite["expectations"]} - SUPPORTED)
    if unsupported:
        raise UnsupportedExpectation(f"suite {suite.get('name')!r}: the arrow engine does not evaluate {unsupported}")
    checks: list[Check | dict[str, Any]] = []
    for spec in suite["expectations"]:
        condition = row_condition(spec["kwargs"])
        if condition:
            unknown = condition_columns(condition) - set(schema.names) - {"True", "False"}
            if unknown:
                raise UnsupportedExpectation(f"row condition {condition!r} names {sorted(unknown)}: not columns")
        kind = spec["type"]
        multicolumn = kind in ("expect_compound_columns_to_be_unique",
                               "expect_select_column_values_to_be_unique_within_record")
        if multicolumn and spec["kwargs"].get("ignore_row_if", "all_values_are_missing") != "all_values_are_missing":
            raise UnsupportedExpectation(f"{kind}: ignore_row_if {spec['kwargs']['ignore_row_if']!r}")
        if kind == "expect_compound_columns_to_be_unique" and condition:
            raise UnsupportedExpectation(f"{kind} with a row condition")
        if kind in COLUMN_MAP:
            checks.append(ColumnMapCheck(spec))
        elif kind == "expect_column_values_to_be_in_type_list":
            column = spec["kwargs"]["column"]
            checks.append(TypeListCheck(spec, dtypes[column], schema.field(column).type))
        elif kind == "expect_select_column_values_to_be_unique_within_record":
            checks.append(DistinctWithinRecordCheck(spec))
        else:
            checks.append(spec)
    return checks


def table_outcome(spec: dict[str, Any], columns: list[str], rows: int) -> Outcome:
    kwargs = spec["kwargs"]
    if spec["type"] == "expect_table_row_count_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        return outcome(spec, (low is None or rows >= low) and (high is None or rows <= high), observed=rows)
    expected = set(kwargs["column_set"])
    success = set(columns) == expected if kwargs.get("exact_match", True) else expected <= set(columns)
    return outcome(spec, success, observed=columns)


def null_presence(path: Path) -> dict[str, bool]:
    """Whether each column has nulls, from the Parquet footer's statistics (read the column if absent)."""
    meta = pq.ParquetFile(path).metadata
    present: dict[str, bool] = {}
    for group in range(meta.num_row_groups):
        row_group = meta.row_group(group)
        for index in range(row_group.num_columns):
            chunk = row_group.column(index)
            name = chunk.path_in_schema
            stats = chunk.statistics
            nulls = stats.null_count if stats is not None and stats.has_null_count else None
            if nulls is None:
                nulls = pq.read_table(path, columns=[name]).column(name).null_count
            present[name] = present.get(name, False) or nulls > 0
    return present


def feed(consumers: list[Callable[[pa.RecordBatch], None]], batch: pa.RecordBatch) -> None:
    for consumer in consumers:
        consumer(batch)


def validate_file(path: Path, suite: dict[str, Any], row_bounds: tuple[int, int, str],
                  window: tuple[datetime, datetime] | None = None,
                  also: Iterable[Callable[[pa.RecordBatch], None]] = (), batch_rows: int = BATCH_ROWS) -> FastReport:
    """Validate the Parquet file at ``path`` against ``suite`` plus the run-time expectations (row count,
    partition window) exactly as ``validate_partition`` adds them; ``also`` receive every batch in a helper
    thread, in order (one pass serves drift counting too)."""
    low, high, reason = row_bounds
    full_suite = with_row_count(suite if window is None else with_window(suite, window), low, high)
    schema = pq.read_schema(path)
    dtypes = pandas_dtypes(schema, null_presence(path))
    checks = checks_for(full_suite, schema, dtypes)
    streaming = [c for c in checks if not isinstance(c, dict)]
    rows, consumers = 0, list(also)
    with ThreadPoolExecutor(2) as helper:  # the other core: Arrow and numpy release the GIL
        compound = {id(spec): helper.submit(compound_unique, path, spec) for spec in checks
                    if isinstance(spec, dict) and spec["type"] == "expect_compound_columns_to_be_unique"}
        handed: Future[None] | None = None
        for record_batch in record_batches(path, batch_rows=batch_rows):
            rows += record_batch.num_rows
            if handed is not None:
                handed.result()  # at most one batch ahead: memory stays bounded
            handed = helper.submit(feed, consumers, record_batch) if consumers else None
            batch = Batch(record_batch, dtypes)
            for streamed in streaming:
                streamed.update(batch)
        if handed is not None:
            handed.result()
        outcomes = []
        for check in checks:
            if not isinstance(check, dict):
                outcomes.append(check.outcome())
            elif id(check) in compound:
                outcomes.append(compound[id(check)].result())
            else:
                outcomes.append(table_outcome(check, list(schema.names), rows))
    return FastReport(outcomes, rows, (low, high), reason)


__all__ = ["SUPPORTED", "FastReport", "Outcome", "UnsupportedCondition", "UnsupportedExpectation", "validate_file"]

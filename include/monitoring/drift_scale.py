"""Evidently's per-column drift scores from exact value counts: one pass, bounded memory, same numbers.

``include.monitoring.drift`` runs Evidently 0.7 on pandas frames: at 10M rows per side that took
242 s and 6 GB here (GUIDE section 1). Both methods the use cases configure are functions of the two
samples' *value counts* alone, so this module counts values per column in one streaming pass over
record batches (``pyarrow.compute.value_counts``, merged as it goes) and computes the scores from the
counts, the same way Evidently's stattests do. Numbers are counted with ``bincount`` when they lie on a grid of
integers or hundredths (checked exactly: each grid point must hold a single value), otherwise hashed;
categories per dictionary entry of the Parquet column.

- ``wasserstein`` (numeric): ``scipy.stats.wasserstein_distance(reference, current) / max(std(reference),
  0.001)``. W1 is the integral of ``|F_ref - F_cur|``; both CDFs are step functions that only change at
  the observed values, so on the sorted union of the distinct values ``v_0 < ... < v_m`` it is exactly
  ``sum_i |F_ref(v_i) - F_cur(v_i)| (v_{i+1} - v_i)`` with ``F(v_i)`` = cumulative count / n: the terms
  scipy sums after sorting all values (there, ties add zero-width terms). The reference's population
  standard deviation comes from the same counts.
- ``jensenshannon`` (categorical): Evidently's shares ``count / n`` per category over the union of the
  categories (no zero filling) into ``scipy.spatial.distance.jensenshannon`` (natural log).

As in Evidently, nulls, NaN and infinities are dropped per column first (numbers compared as float64,
categories as strings); a column with no values on a side has no score (``None``). Verdicts come from
the same ``judge`` as Evidently's report. Error bound: none from the method (no binning, no
sampling): results differ from Evidently's only by floating-point summation order, a relative
difference of order 1e-12 (tests allow 1e-9). Cost: one hash count per column and batch; memory grows
with the number of *distinct* values (a continuous column with n distinct values costs about 16 bytes
each, still exact). Other methods raise ``UnsupportedMethod``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.spatial import distance  # type: ignore[import-untyped]

from include.common.parquet_batches import record_batches
from include.monitoring.drift import PREDICTION, ColumnSpec, DriftResult, DriftSpec, judge

NUMERIC_METHODS = {"wasserstein"}
CATEGORICAL_METHODS = {"jensenshannon"}
MERGE_EVERY = 1 << 22  # pending (value, count) pairs before they are merged


class UnsupportedMethod(ValueError):
    """A drift method whose score is not implemented from counts here (use Evidently)."""


Counts = tuple[np.ndarray, np.ndarray]  # distinct values (sorted) and how often each occurs
GRID_SCALES = (1.0, 100.0)  # integers, hundredths: most measured columns (a sensor's resolution)
GRID_CODES = 1 << 23


@dataclass
class ValueCounts:
    """Exact counts of one column's values on one side, merged incrementally."""

    categorical: bool
    pending: list[Counts] = field(default_factory=list)
    pending_values: int = 0

    def add(self, array: pa.Array | pa.ChunkedArray) -> None:
        counts = text_counts(array) if self.categorical else number_counts(array)
        if len(counts[0]):
            self.pending.append(counts)
            self.pending_values += len(counts[0])
        if self.pending_values > MERGE_EVERY:
            self.pending = [merge(self.pending)]
            self.pending_values = len(self.pending[0][0])

    def result(self) -> Counts:
        """Distinct values (sorted) and their counts."""
        if not self.pending:
            return np.array([], dtype=object if self.categorical else np.float64), np.array([], dtype=np.int64)
        return merge(self.pending)


def merge(parts: list[Counts]) -> Counts:
    """One (sorted distinct values, counts) from several."""
    if len(parts) == 1:
        return parts[0]
    values, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
    return values, np.bincount(inverse, weights=np.concatenate([p[1] for p in parts])).astype(np.int64)


def text_counts(array: pa.Array | pa.ChunkedArray) -> Counts:
    """Category counts as ``prepared()`` sees them: ``str(value)``, nulls dropped (dictionary columns: per entry)."""
    array = pc.drop_null(array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array)
    if pa.types.is_dictionary(array.type):
        per_index = pc.value_counts(array.indices)
        keys = array.dictionary.take(per_index.field("values"))
        counted = pa.StructArray.from_arrays([keys, per_index.field("counts")], names=["values", "counts"])
    else:
        counted = pc.value_counts(array)
    texts = np.array([str(v) for v in counted.field("values").to_pylist()], dtype=object)
    counts = counted.field("counts").to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(texts)  # distinct values have distinct texts
    return texts[order], counts[order]


def number_counts(array: pa.Array | pa.ChunkedArray) -> Counts:
    """Counts of the finite values as float64 (Evidently drops null, NaN and infinities)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_floating(array.type):
        array = pc.cast(array, pa.float64())
    values = np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)  # nulls become NaN
    finite = np.isfinite(values)
    if not finite.all():
        values = values[finite]
    if not len(values):
        return values, np.zeros(0, np.int64)
    return grid_counts(values) or hashed_counts(values)


def grid_counts(values: np.ndarray) -> Counts | None:
    """Counts by ``bincount`` when the values lie on a grid of integers or hundredths (most columns): fast,
    and exact because it checks that every grid point holds one value only; None when they do not."""
    low, high = float(values.min()), float(values.max())
    for scale in GRID_SCALES:
        if (high - low) * scale >= GRID_CODES:
            continue
        codes = np.rint((values - low) * scale).astype(np.int64)
        representative = np.empty(int(codes.max()) + 1)
        representative[codes] = values
        if np.array_equal(representative[codes], values):
            counts = np.bincount(codes)
            present = np.flatnonzero(counts)
            return representative[present], counts[present].astype(np.int64)
    return None


def hashed_counts(values: np.ndarray) -> Counts:
    counted = pc.value_counts(pa.array(values))
    keys = counted.field("values").to_numpy(zero_copy_only=False)
    order = np.argsort(keys)
    return keys[order], counted.field("counts").to_numpy(zero_copy_only=False)[order].astype(np.int64)


def wasserstein_normed(reference: Counts, current: Counts) -> float:
    """Evidently's ``wasserstein`` score from (sorted distinct values, counts) of both samples."""
    (ref_values, ref_counts), (cur_values, cur_counts) = reference, current
    support = np.union1d(ref_values, cur_values)
    ref_cdf = cumulative(support, ref_values, ref_counts)
    cur_cdf = cumulative(support, cur_values, cur_counts)
    w1 = float(np.dot(np.abs(ref_cdf[:-1] - cur_cdf[:-1]), np.diff(support)))
    n = ref_counts.sum()
    mean = float(np.dot(ref_values, ref_counts)) / n
    std = float(np.sqrt(np.dot(ref_counts, (ref_values - mean) ** 2) / n))
    return w1 / max(std, 0.001)


def cumulative(support: np.ndarray, values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``F(v)`` = share of the sample <= v, for each ``v`` of ``support`` (which contains ``values``)."""
    per_value = np.zeros(len(support), dtype=np.int64)
    per_value[np.searchsorted(support, values)] = counts
    return np.cumsum(per_value) / counts.sum()  # type: ignore[no-any-return]


def jensenshannon_shares(reference: Counts, current: Counts) -> float:
    """Evidently's categorical ``jensenshannon``: shares over the union of categories, natural log."""
    keys = sorted(set(reference[0].tolist()) | set(current[0].tolist()))
    ref, cur = dict(zip(*reference, strict=True)), dict(zip(*current, strict=True))
    ref_n, cur_n = sum(ref.values()), sum(cur.values())
    p = np.array([ref.get(k, 0) / ref_n for k in keys])
    q = np.array([cur.get(k, 0) / cur_n for k in keys])
    return float(distance.jensenshannon(p, q))


def check_methods(columns: Iterable[ColumnSpec]) -> None:
    for spec in columns:
        allowed = CATEGORICAL_METHODS if spec.categorical else NUMERIC_METHODS
        if spec.method not in allowed:
            kind = "categorical" if spec.categorical else "numerical"
            raise UnsupportedMethod(f"{spec.column}: {kind} method {spec.method!r} (supported: {sorted(allowed)})")


class DriftCounter:
    """Counts the values of every monitored column (and ``prediction`` when present) of one side.

    Call it with each record batch (``validate_file(also=...)`` or ``count_file``); ``result()`` gives the counts.
    """

    def __init__(self, columns: Iterable[ColumnSpec]) -> None:
        self.columns = list(columns)
        check_methods(self.columns)
        self.counts = {spec.column: ValueCounts(spec.categorical) for spec in self.columns}

    def __call__(self, batch: pa.RecordBatch) -> None:
        for name, counts in self.counts.items():
            counts.add(batch.column(name))

    def result(self) -> dict[str, Counts]:
        return {name: counts.result() for name, counts in self.counts.items()}


def monitored(spec: DriftSpec, with_prediction: bool) -> list[ColumnSpec]:
    extra = [ColumnSpec(PREDICTION, False, spec.prediction_method, spec.prediction_threshold)]
    return [*spec.columns, *(extra if with_prediction else [])]


def count_file(path: str, columns: list[ColumnSpec], batch_rows: int = 1 << 20) -> dict[str, Counts]:
    """Counts of ``columns`` in the Parquet file at ``path`` (only those columns are read)."""
    counter = DriftCounter(columns)
    for batch in record_batches(path, [c.column for c in columns], batch_rows):
        counter(batch)
    return counter.result()


def scores(columns: list[ColumnSpec], current: dict[str, Counts],
           reference: dict[str, Counts]) -> dict[str, float | None]:
    """Per-column scores (None when a side has no values, where Evidently refuses the column)."""
    out: dict[str, float | None] = {}
    for spec in columns:
        ref, cur = reference[spec.column], current[spec.column]
        if not len(ref[0]) or not len(cur[0]):
            out[spec.column] = None
        elif spec.categorical:
            out[spec.column] = jensenshannon_shares(ref, cur)
        else:
            out[spec.column] = wasserstein_normed(ref, cur)
    return out


def drift_from_counts(spec: DriftSpec, current: dict[str, Counts],
                      reference: dict[str, Counts]) -> DriftResult:
    """Verdicts from the counts of both sides, with ``judge`` (the rule the Evidently path uses)."""
    with_prediction = PREDICTION in current and PREDICTION in reference
    return judge(spec, scores(monitored(spec, with_prediction), current, reference), with_prediction)

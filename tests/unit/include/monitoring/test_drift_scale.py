"""Drift scores from value counts equal Evidently's stattests on the raw values (same methods, same cleaning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from include.monitoring.drift import ColumnSpec, DriftSpec
from include.monitoring.drift_scale import (
    DriftCounter,
    UnsupportedMethod,
    drift_from_counts,
    grid_counts,
    jensenshannon_shares,
    merge,
    number_counts,
    text_counts,
    wasserstein_normed,
)


def evidently_score(method: str, reference: pd.Series, current: pd.Series, categorical: bool) -> float:
    from evidently.legacy.calculations.stattests.jensenshannon import _jensenshannon
    from evidently.legacy.calculations.stattests.wasserstein_distance_norm import _wasserstein_distance_norm
    from evidently.legacy.core import ColumnType

    kind = ColumnType.Categorical if categorical else ColumnType.Numerical
    test = _jensenshannon if method == "jensenshannon" else _wasserstein_distance_norm
    clean = [s.replace([np.inf, -np.inf], np.nan).dropna() for s in (reference, current)]
    return float(test(clean[0], clean[1], kind, 0.1)[0])


SAMPLES = {
    "integers": lambda rng: rng.integers(0, 24, 5000).astype(float),
    "hundredths": lambda rng: np.round(rng.normal(50, 20, 5000), 2),
    "continuous": lambda rng: rng.normal(0, 1, 5000),
    "with gaps": lambda rng: np.where(rng.random(5000) < 0.1, np.nan, rng.exponential(3, 5000)),
    "constant": lambda rng: np.full(5000, 7.0),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_wasserstein_from_counts_is_evidentlys(name: str) -> None:
    rng = np.random.default_rng(3)
    reference, current = SAMPLES[name](rng), SAMPLES[name](rng) + (0.5 if name != "constant" else 0)
    counted = [number_counts(pa.array(values, from_pandas=True)) for values in (reference, current)]
    expected = evidently_score("wasserstein", pd.Series(reference), pd.Series(current), False)
    assert wasserstein_normed(counted[0], counted[1]) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_jensenshannon_from_counts_is_evidentlys() -> None:
    rng = np.random.default_rng(4)
    reference = pd.Series(rng.choice(["EWR", "JFK", "LGA", None], 4000, p=[0.4, 0.3, 0.2, 0.1]))
    current = pd.Series(rng.choice(["EWR", "JFK", "BOS"], 3000, p=[0.2, 0.5, 0.3]))
    counted = [text_counts(pa.array(s).dictionary_encode()) for s in (reference, current)]
    expected = evidently_score("jensenshannon", reference, current, True)
    assert jensenshannon_shares(counted[0], counted[1]) == pytest.approx(expected, rel=1e-12)


def test_grid_counts_are_exact_or_refused() -> None:
    values = np.array([0.1, 0.2, 0.1, 0.30000000000000004, 0.3])  # two different floats near 0.3
    assert grid_counts(values) is None
    counted = grid_counts(np.array([2.5, 1.25, 2.5, -1.0]))  # hundredths
    assert counted is not None and counted[0].tolist() == [-1.0, 1.25, 2.5] and counted[1].tolist() == [1, 1, 2]
    ints = grid_counts(np.array([3.0, 1.0, 3.0, 2.0]))
    assert ints is not None and ints[0].tolist() == [1.0, 2.0, 3.0] and ints[1].tolist() == [1, 1, 2]


def test_counts_merge_across_batches_and_drop_missing() -> None:
    counter = DriftCounter([ColumnSpec("x", False, "wasserstein", 0.1), ColumnSpec("c", True, "jensenshannon", 0.1)])
    counter(pa.RecordBatch.from_pydict({"x": [1.0, None, float("inf"), 2.0], "c": ["a", None, "b", "a"]}))
    counter(pa.RecordBatch.from_pydict({"x": [2.0, 0.5, float("nan"), 1.0], "c": ["b", "b", "c", None]}))
    result = counter.result()
    assert result["x"][0].tolist() == [0.5, 1.0, 2.0] and result["x"][1].tolist() == [1, 2, 2]
    assert result["c"][0].tolist() == ["a", "b", "c"] and result["c"][1].tolist() == [2, 3, 1]
    assert merge([result["x"]])[1].tolist() == [1, 2, 2]


def test_verdicts_use_judge_and_empty_sides_have_no_score() -> None:
    spec = DriftSpec((ColumnSpec("x", False, "wasserstein", 0.1), ColumnSpec("y", False, "wasserstein", 0.1)), 0.5, 1.0)
    reference = {"x": (np.array([0.0, 1.0]), np.array([5, 5])), "y": (np.array([1.0]), np.array([3]))}
    current = {"x": (np.array([0.0, 1.0]), np.array([1, 9])), "y": (np.array([]), np.array([], dtype=np.int64))}
    result = drift_from_counts(spec, current, reference)
    assert [c.score for c in result.columns] == [pytest.approx(0.8), None]
    assert result.drifted_columns == ["x"] and result.dataset_drift


def test_methods_without_a_counts_formula_are_refused() -> None:
    with pytest.raises(UnsupportedMethod, match="psi"):
        DriftCounter([ColumnSpec("x", False, "psi", 0.1)])
    with pytest.raises(UnsupportedMethod, match="wasserstein"):
        DriftCounter([ColumnSpec("c", True, "wasserstein", 0.1)])

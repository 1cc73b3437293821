"""Drift and performance reports: explicit methods per column whatever the sample size, verdicts that
match Evidently's own count, prediction drift, the presets, and the files Evidently writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from include.common.usecase import load_usecase
from include.monitoring.drift import (
    PREDICTION,
    ColumnSpec,
    DriftSpec,
    Performance,
    drift_report,
    drift_spec,
    judge,
    performance_metrics,
    performance_report,
    prepared,
)
from include.monitoring.reports import save_snapshot

SPEC = DriftSpec((ColumnSpec("x", False, "wasserstein", 0.1), ColumnSpec("hour", False, "wasserstein", 0.15),
                  ColumnSpec("origin", True, "jensenshannon", 0.1)), drift_share=0.5, prediction_threshold=0.1)


def sample(rows: int, seed: int, x_shift: float = 0.0, origins: tuple[float, float, float] = (0.4, 0.35, 0.25)
           ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(x_shift, 1, rows), "hour": rng.integers(5, 23, rows),
                         "origin": rng.choice(["EWR", "JFK", "LGA"], size=rows, p=list(origins)),
                         PREDICTION: rng.beta(2, 5, rows)})


def evidently_count(snapshot) -> float:  # type: ignore[no-untyped-def]
    metric = next(m for m in snapshot.dict()["metrics"] if m["config"]["type"].endswith(":DriftedColumnsCount"))
    return float(metric["value"]["count"])


def test_flights_spec_sets_method_and_threshold_for_every_monitored_column() -> None:
    usecase = load_usecase("flights")
    spec = drift_spec(usecase)
    config = usecase.require_monitoring()
    assert spec.names == [c for c in usecase.features if c not in config.ignore_columns]
    assert "month" not in spec.names and "day_of_week" not in spec.names
    assert spec.categorical == ["origin", "dest", "carrier"]
    for column in spec.columns:
        assert column.method == ("jensenshannon" if column.categorical else "wasserstein")
        assert column.threshold == config.threshold(column.column, column.categorical)


def test_no_shift_flags_nothing_and_a_shift_flags_exactly_the_shifted_columns() -> None:
    reference = sample(4000, 0)
    _, calm = drift_report(sample(900, 1), reference, SPEC)
    assert calm.drifted_columns == [] and not calm.dataset_drift
    assert calm.prediction is not None and not calm.prediction.drifted

    snapshot, shifted = drift_report(sample(900, 2, x_shift=1.0, origins=(0.1, 0.1, 0.8)), reference, SPEC)
    assert shifted.drifted_columns == ["x", "origin"]
    assert shifted.drift_share == pytest.approx(2 / 3) and shifted.dataset_drift
    assert evidently_count(snapshot) == 2  # Evidently's own verdict agrees with ours
    x = next(c for c in shifted.columns if c.column == "x")
    assert x.method == "wasserstein" and x.score is not None and x.score > 0.5


@pytest.mark.parametrize("reference_rows", [900, 1100])
def test_the_method_does_not_switch_at_evidentlys_1000_row_boundary(reference_rows: int) -> None:
    """GUIDE trap 22: Evidently's defaults use KS/chi-square up to 1000 reference rows, distances above."""
    snapshot, result = drift_report(sample(900, 3), sample(reference_rows, 4), SPEC)
    methods = {m["config"]["column"]: m["config"]["method"] for m in snapshot.dict()["metrics"]
               if m["config"]["type"].endswith(":ValueDrift")}
    assert methods == {"x": "wasserstein", "hour": "wasserstein", "origin": "jensenshannon",
                       PREDICTION: "wasserstein"}
    assert result.drifted_columns == []


def test_prediction_drift_is_judged_on_the_prediction_column() -> None:
    reference = sample(3000, 5)
    current = sample(900, 6)
    current[PREDICTION] = np.clip(current[PREDICTION] + 0.3, 0, 1)
    _, result = drift_report(current, reference, SPEC)
    assert result.prediction is not None and result.prediction.drifted
    assert result.drifted_columns == []  # the features did not move


def test_judge_drifts_at_the_threshold_and_treats_a_missing_score_as_no_verdict() -> None:
    result = judge(SPEC, {"x": 0.1, "hour": 0.1499, "origin": None}, with_prediction=False)
    assert [(c.column, c.drifted) for c in result.columns] == [("x", True), ("hour", False), ("origin", False)]
    assert result.prediction is None and result.to_dict()["drift_share"] == pytest.approx(1 / 3)


def test_prepared_gives_plain_dtypes_and_keeps_missing_values_missing() -> None:
    frame = pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64"), "hour": [5, 6, 7],
                          "origin": ["EWR", None, "JFK"]})
    out = prepared(frame, SPEC)
    assert str(out["x"].dtype) == "float64" and np.isnan(out["x"][1])
    assert out["origin"].tolist() == ["EWR", None, "JFK"]


def test_performance_presets_and_files(tmp_path: Path) -> None:
    frame = sample(500, 7)
    frame["delayed"] = frame[PREDICTION] + np.random.default_rng(8).normal(0, 0.1, 500) > 0.3
    written = save_snapshot(performance_report(frame, "delayed", "binary_classification", 0.3), tmp_path, "perf")
    assert [p.name for p in written] == ["perf.html", "perf.json"]
    assert "<html" in written[0].read_text()[:2000].lower() and json.loads(written[1].read_text())["metrics"]
    frame["price"] = 100 + 50 * frame[PREDICTION]
    regression = performance_report(frame, "price", "regression", 0.5)
    assert any("MAE" in m["metric_name"] or "MeanError" in m["metric_name"] for m in regression.dict()["metrics"])


def test_performance_metric_compares_with_the_champion_in_the_metrics_direction() -> None:
    y = np.array([0, 1, 0, 1, 1, 0])
    metrics = performance_metrics("binary_classification", y, np.array([0.1, 0.9, 0.2, 0.8, 0.4, 0.3]), 0.5)
    assert metrics["roc_auc"] == pytest.approx(1.0)
    assert performance_metrics("binary_classification", np.array([1, 1]), np.array([0.2, 0.9]), 0.5) == {}
    worse = Performance("roc_auc", 0.60, 0.70, 0.05, True, 900)
    assert worse.degraded and worse.delta == pytest.approx(-0.10)
    assert not Performance("roc_auc", 0.68, 0.70, 0.05, True, 900).degraded
    assert Performance("mae", 30.0, 20.0, 5.0, False, 50).degraded
    assert not Performance("mae", None, 20.0, 5.0, False, 0).degraded


def test_save_snapshot_refuses_to_pretend(tmp_path: Path) -> None:
    class Silent:
        def save_html(self, path: str) -> None:
            pass

        def save_json(self, path: str) -> None:
            Path(path).write_text("{}")

    with pytest.raises(RuntimeError, match=r"drift\.html"):
        save_snapshot(Silent(), tmp_path, "drift")  # type: ignore[arg-type]

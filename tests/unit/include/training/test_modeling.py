from datetime import date

import numpy as np
import pandas as pd
import pytest

from include.training.modeling import build_pipeline, holdout_range, labelled, score, slice_metrics, time_split


def frame(days: int = 10, rows_per_day: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * rows_per_day
    x = rng.normal(size=n)
    return pd.DataFrame({
        "day": np.repeat([f"2013-01-{d + 1:02d}" for d in range(days)], rows_per_day),
        "x": x, "origin": rng.choice(["EWR", "JFK", "LGA"], size=n),
        "delayed": pd.array(np.where(rng.random(n) < 0.05, None, x + rng.normal(scale=0.5, size=n) > 0.5),
                            dtype="boolean"),
    })


def test_time_split_holds_out_the_latest_days() -> None:
    split = time_split(frame(), "day", holdout_range(date(2013, 1, 10), 3))
    assert split.holdout_days[0].isoformat() == "2013-01-08" and split.train_days[1].isoformat() == "2013-01-07"
    assert set(split.holdout["day"]) == {"2013-01-08", "2013-01-09", "2013-01-10"}
    with pytest.raises(ValueError, match="load more days"):
        time_split(frame(days=2), "day", holdout_range(date(2013, 1, 2), 5))


def test_pipeline_is_reproducible_and_learns_the_signal() -> None:
    data = frame()
    split = time_split(data, "day", holdout_range(date(2013, 1, 10), 3))
    train, y_train = labelled(split.train, "delayed", "binary_classification")
    test, y_test = labelled(split.holdout, "delayed", "binary_classification")
    assert train["delayed"].notna().all()
    predictions = []
    for _ in range(2):
        model = build_pipeline(train, ["x", "origin"], "binary_classification", {"max_iter": 50}, seed=7)
        model.fit(train[["x", "origin"]], y_train)
        predictions.append(model.predict_proba(test[["x", "origin"]])[:, 1])
    np.testing.assert_array_equal(predictions[0], predictions[1])
    metrics = score("binary_classification", y_test.to_numpy(), predictions[0])
    assert metrics["roc_auc"] > 0.8 and set(metrics) >= {"pr_auc", "f1", "log_loss", "brier"}
    per_origin = slice_metrics("binary_classification", test, y_test.to_numpy(), predictions[0], ["origin"])
    assert set(per_origin["origin"]) == {"EWR", "JFK", "LGA"}


def test_regression_metrics() -> None:
    metrics = score("regression", np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 4.0]))
    assert metrics["mae"] == pytest.approx(1 / 3) and metrics["rmse"] == pytest.approx(np.sqrt(1 / 3))

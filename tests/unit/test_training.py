"""Training run settings, window, seeded training and evaluation (no servers)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from include.common.usecase import UseCase, load_usecase
from include.training.reports import classification_plots, model_card, regression_plots
from include.training.trainer import RunSettings, evaluate, train, training_window

FIRST_DAY = date(2013, 1, 1)


def usecase(task: str = "binary_classification") -> UseCase:
    shipped = load_usecase("flights")
    target = "delayed" if task == "binary_classification" else "price"
    return shipped.model_copy(update={"task": task, "target": target, "features": ["x", "origin", "hour"],
                                      "slices": ["origin"]})


def frame(days: int = 21, rows_per_day: int = 120, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = days * rows_per_day
    x = rng.normal(size=n)
    hour = rng.integers(5, 23, size=n)
    signal = x + 0.1 * (hour - 14) + rng.normal(scale=0.7, size=n)
    return pd.DataFrame({
        "flight_date": np.repeat([(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(days)], rows_per_day),
        "x": x, "hour": hour, "origin": rng.choice(["EWR", "JFK", "LGA"], size=n),
        "delayed": pd.array(np.where(rng.random(n) < 0.03, None, signal > 0.8), dtype="boolean"),
        "price": 100 + 20 * signal,
    })


def settings(**changes: object) -> RunSettings:
    base = RunSettings(usecase="flights", window_start=FIRST_DAY, window_end=FIRST_DAY + timedelta(days=20),
                       holdout_days=7, family="hist_gradient_boosting", hyperparameters={"max_iter": 40}, seed=3)
    return RunSettings(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_settings_round_trip_through_json_and_flatten_for_mlflow() -> None:
    original = settings(shuffle_labels=True)
    assert RunSettings.from_json(original.to_json()) == original
    params = original.mlflow_params()
    assert params["model.max_iter"] == "40" and params["window_start"] == "2013-01-01"
    assert params["shuffle_labels"] == "True" and "hyperparameters" not in params


def test_window_takes_the_last_days_up_to_the_end() -> None:
    available = [FIRST_DAY + timedelta(days=d) for d in range(30) if d != 25]
    assert training_window(available, 10) == [d for d in available if d >= date(2013, 1, 21)]
    assert training_window(available, 3, end=date(2013, 1, 27)) == [date(2013, 1, 25), date(2013, 1, 27)]
    with pytest.raises(ValueError, match="run the ETL"):
        training_window(available, 5, end=date(2012, 12, 31))


def test_training_is_reproducible_and_beats_shuffled_labels() -> None:
    data = frame()
    first, second = train(data, usecase(), settings()), train(data, usecase(), settings())
    assert first.evaluation.metrics == second.evaluation.metrics and first.importance == second.importance
    assert first.split.holdout_days == (date(2013, 1, 15), date(2013, 1, 21))
    assert first.evaluation.metrics["roc_auc"] > 0.8
    assert set(first.evaluation.slices["origin"]) == {"EWR", "JFK", "LGA"}
    assert next(iter(first.importance)) in {"x", "hour"}
    shuffled = train(data, usecase(), settings(shuffle_labels=True))
    assert shuffled.evaluation.metrics["roc_auc"] < 0.65


@pytest.mark.parametrize("family", ["random_forest", "linear"])
def test_other_families_train_for_both_tasks(family: str) -> None:
    for task in ("binary_classification", "regression"):
        trained = train(frame(), usecase(task), settings(family=family, hyperparameters={}))
        metric = "roc_auc" if task == "binary_classification" else "r2"
        assert trained.evaluation.metrics[metric] > 0.5, (family, task, trained.evaluation.metrics)


def test_evaluation_of_a_holdout_without_labels_is_an_error() -> None:
    trained = train(frame(), usecase(), settings())
    unlabelled = frame(days=1).assign(delayed=pd.array([None] * 120, dtype="boolean"))
    with pytest.raises(ValueError, match="no labelled rows"):
        evaluate(trained.pipeline, unlabelled, usecase(), 0.5)


def test_plots_and_model_card(tmp_path: Path) -> None:
    trained = train(frame(), usecase(), settings())
    paths = classification_plots(trained.evaluation, 0.5, tmp_path)
    assert {p.name for p in paths} == {"roc_curve.png", "pr_curve.png", "confusion_matrix.png", "calibration.png"}
    assert all(p.stat().st_size > 5000 for p in paths)
    regression = train(frame(), usecase("regression"), settings())
    assert {p.name for p in regression_plots(regression.evaluation, tmp_path)} == {
        "residuals.png", "predicted_vs_actual.png"}
    card = model_card(usecase=usecase(), settings=settings(), split_days={"train": "a", "holdout": "b"},
                      data={"repository": "flights", "commit_id": "c0ffee", "uri": "lakefs://flights/c0ffee/x/",
                            "url": "http://127.0.0.1:8000/x"},
                      train_rows=trained.train_rows, evaluation=trained.evaluation,
                      train_metrics=trained.train_metrics, importance=trained.importance,
                      code_version="abc123", run_id="r1")
    assert "commit `c0ffee`" in card and "make reproduce RUN_ID=r1" in card and "| origin=JFK |" in card
    assert "Known limits" in card and "abc123" in card and "On the training days: roc_auc" in card

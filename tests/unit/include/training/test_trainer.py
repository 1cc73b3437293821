"""Training run settings, window, seeded training and evaluation (no servers)."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from include.training.trainer import RunSettings, TrainedModel, evaluate, train, training_window
from tests.support.training_data import FIRST_DAY, frame, settings, usecase


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(frame(), usecase(), settings())


def test_settings_round_trip_through_json_and_flatten_for_mlflow() -> None:
    original = settings(shuffle_labels=True)
    assert RunSettings.from_json(original.to_json()) == original
    params = original.mlflow_params()
    assert params["model.max_iter"] == "40" and params["window_start"] == "2013-01-01"
    assert params["shuffle_labels"] == "True" and "hyperparameters" not in params
    assert "decision_threshold" in params and "decision_threshold" not in original.mlflow_params("regression")


def test_holdout_range_is_the_last_days_of_the_window() -> None:
    assert settings().holdout_range == (date(2013, 1, 15), date(2013, 1, 21))


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


def test_unlabelled_rows_are_neither_trained_on_nor_scored(trained: TrainedModel) -> None:
    data = frame()
    train_days = pd.to_datetime(data["flight_date"]).dt.date < date(2013, 1, 15)
    assert trained.train_rows == int(data.loc[train_days, "delayed"].notna().sum()) < int(train_days.sum())
    assert trained.evaluation.metrics["rows"] == int(data.loc[~train_days, "delayed"].notna().sum())


@pytest.mark.parametrize("family", ["random_forest", "linear"])
def test_other_families_train_for_both_tasks(family: str) -> None:
    for task in ("binary_classification", "regression"):
        trained = train(frame(), usecase(task), settings(family=family, hyperparameters={}))
        metric = "roc_auc" if task == "binary_classification" else "r2"
        assert trained.evaluation.metrics[metric] > 0.5, (family, task, trained.evaluation.metrics)


def test_evaluation_of_a_holdout_without_labels_is_an_error(trained: TrainedModel) -> None:
    unlabelled = frame(days=1).assign(delayed=pd.array([None] * 120, dtype="boolean"))
    with pytest.raises(ValueError, match="no labelled rows"):
        evaluate(trained.pipeline, unlabelled, usecase(), 0.5)

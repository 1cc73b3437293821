"""Plots and the model card of a training run (no servers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from include.training.reports import classification_plots, model_card, regression_plots
from include.training.trainer import TrainedModel, train
from tests.support.training_data import frame, settings, usecase


@pytest.fixture(scope="module")
def trained() -> TrainedModel:
    return train(frame(), usecase(), settings())


def test_plots_are_real_images(trained: TrainedModel, tmp_path: Path) -> None:
    paths = classification_plots(trained.evaluation, 0.5, tmp_path)
    assert {p.name for p in paths} == {"roc_curve.png", "pr_curve.png", "confusion_matrix.png", "calibration.png"}
    regression = train(frame(), usecase("regression"), settings())
    regression_paths = regression_plots(regression.evaluation, tmp_path)
    assert {p.name for p in regression_paths} == {"residuals.png", "predicted_vs_actual.png"}
    for path in [*paths, *regression_paths]:
        with Image.open(path) as image:  # a PNG of the figure's size (5.5 x 4.5 in at 100 dpi), not a stub file
            assert (image.format, image.size) == ("PNG", (550, 450)), path.name


def test_model_card_names_data_commit_code_metrics_and_how_to_reproduce(trained: TrainedModel) -> None:
    card = model_card(usecase=usecase(), settings=settings(), split_days={"train": "a", "holdout": "b"},
                      data={"repository": "flights", "commit_id": "c0ffee", "uri": "lakefs://flights/c0ffee/x/",
                            "url": "http://127.0.0.1:8000/x"},
                      train_rows=trained.train_rows, evaluation=trained.evaluation,
                      train_metrics=trained.train_metrics, importance=trained.importance,
                      code_version="abc123", run_id="r1")
    assert "commit `c0ffee`" in card and "make reproduce RUN_ID=r1" in card and "| origin=JFK |" in card
    assert "Known limits" in card and "abc123" in card and "On the training days: roc_auc" in card
    assert f"{trained.evaluation.metrics['roc_auc']:.4f}" in card

"""One training run as plain functions: curated data in, fitted pipeline and its evaluation out.

Everything a run depends on is in ``RunSettings`` (recorded in MLflow as ``run_settings.json``),
and every random step is seeded from it, so the same data commit, settings and code give the
same model and the same metrics.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np
import pandas as pd

from include.common.metrics import Metrics, SliceMetrics
from include.common.partitioning import PartitionWidth, partition_start, shift
from include.common.usecase import UseCase
from include.training.modeling import (
    Split,
    build_pipeline,
    holdout_range,
    labelled,
    predict,
    score,
    slice_metrics,
    time_split,
)

IMPORTANCE_ROWS = 4000  # holdout rows sampled for permutation importance
IMPORTANCE_REPEATS = 3


@dataclass(frozen=True)
class RunSettings:
    """What one training run used, besides the data commit and the code version."""

    usecase: str
    window_start: date
    window_end: date
    holdout_days: int
    family: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    seed: int = 42
    decision_threshold: float = 0.5
    shuffle_labels: bool = False  # sanity check: a model on permuted labels must fail the gate
    partition_width: str = "day"  # what window_start..window_end and holdout_days count (runs before widths: day)

    @property
    def holdout_range(self) -> tuple[date, date]:
        """The days the time split holds out (the last ``holdout_days`` partitions), and the only days the gate
        scores."""
        return holdout_range(self.window_end, self.holdout_days, cast(PartitionWidth, self.partition_width))

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str, sort_keys=True, indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunSettings:
        raw = json.loads(text)
        return cls(**{**raw, "window_start": date.fromisoformat(raw["window_start"]),
                      "window_end": date.fromisoformat(raw["window_end"])})

    def mlflow_params(self, task: str = "binary_classification") -> dict[str, str]:
        """Flat, string-valued parameters (hyperparameters prefixed with ``model.``; no threshold for regression)."""
        skipped = {"hyperparameters", *(["decision_threshold"] if task == "regression" else [])}
        flat = {key: value for key, value in asdict(self).items() if key not in skipped}
        flat.update({f"model.{key}": value for key, value in sorted(self.hyperparameters.items())})
        return {key: str(value) for key, value in flat.items()}


@dataclass(frozen=True)
class Evaluation:
    """Metrics of one model on one holdout, overall and per slice, with the raw predictions."""

    metrics: Metrics
    slices: SliceMetrics
    y_true: np.ndarray
    prediction: np.ndarray


@dataclass(frozen=True)
class TrainedModel:
    pipeline: Any
    split: Split
    train_rows: int
    train_metrics: Metrics
    evaluation: Evaluation
    importance: dict[str, float]


def training_window(available: list[date], window_days: int, end: date | None = None,
                    width: PartitionWidth = "day") -> list[date]:
    """The partitions a run reads (their starts): those of the last ``window_days`` partition periods (days,
    weeks or months) up to the one holding ``end`` (default: the latest partition). A missing partition
    leaves a gap; the window does not reach further back to make up for it."""
    candidates = sorted(start for start in available if end is None or start <= end)
    if not candidates:
        latest = f"on or before {end}" if end else "at all"
        raise ValueError(f"no curated partitions {latest}: run the ETL (a backfill) first")
    first = shift(partition_start(candidates[-1], width), -(window_days - 1), width)
    return [start for start in candidates if start >= first]


def evaluate(model: Any, holdout: pd.DataFrame, usecase: UseCase, threshold: float) -> Evaluation:
    """Score ``model`` on the labelled rows of ``holdout``, overall and per declared slice."""
    rows, label = labelled(holdout, usecase.target, usecase.task)
    if rows.empty:
        raise ValueError(f"{usecase.name}: the holdout has no labelled rows")
    y_true = label.to_numpy()
    prediction = predict(model, rows[usecase.features], usecase.task)
    return Evaluation(metrics=score(usecase.task, y_true, prediction, threshold),
                      slices=slice_metrics(usecase.task, rows, y_true, prediction, usecase.slices, threshold),
                      y_true=y_true, prediction=prediction)


def training_labels(label: pd.Series, settings: RunSettings) -> pd.Series:
    """The labels to fit on: as recorded, or permuted (seeded) for the shuffled-label sanity check."""
    if not settings.shuffle_labels:
        return label
    permuted = np.random.default_rng(settings.seed).permutation(label.to_numpy())
    return pd.Series(permuted, index=label.index, name=label.name)


def feature_importance(model: Any, holdout: pd.DataFrame, usecase: UseCase, seed: int) -> dict[str, float]:
    """Permutation importance of each raw feature on (a seeded sample of) the holdout."""
    from sklearn.inspection import permutation_importance

    rows, label = labelled(holdout, usecase.target, usecase.task)
    if len(rows) > IMPORTANCE_ROWS:
        rows = rows.sample(IMPORTANCE_ROWS, random_state=seed)
        label = label.loc[rows.index]
    scoring = "roc_auc" if usecase.task == "binary_classification" else "neg_mean_absolute_error"
    if usecase.task == "binary_classification" and label.nunique() < 2:
        return {}
    result = permutation_importance(model, rows[usecase.features], label, scoring=scoring,
                                    n_repeats=IMPORTANCE_REPEATS, random_state=seed, n_jobs=1)
    ranked = sorted(zip(usecase.features, result.importances_mean, strict=True), key=lambda item: -item[1])
    return {name: float(value) for name, value in ranked}


def train(frame: pd.DataFrame, usecase: UseCase, settings: RunSettings) -> TrainedModel:
    """Split by time, fit the use case's pipeline on the training days, evaluate on the holdout."""
    split = time_split(frame, usecase.partition_column, settings.holdout_range)
    rows, label = labelled(split.train, usecase.target, usecase.task)
    label = training_labels(label, settings)
    pipeline = build_pipeline(rows, usecase.features, usecase.task, settings.hyperparameters, settings.seed,
                              settings.family)
    pipeline.fit(rows[usecase.features], label)
    train_metrics = score(usecase.task, label.to_numpy(), predict(pipeline, rows[usecase.features], usecase.task),
                          settings.decision_threshold)
    return TrainedModel(pipeline=pipeline, split=split, train_rows=len(rows), train_metrics=train_metrics,
                        evaluation=evaluate(pipeline, split.holdout, usecase, settings.decision_threshold),
                        importance=feature_importance(pipeline, split.holdout, usecase, settings.seed))

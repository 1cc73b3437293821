"""Drift and performance reports with Evidently 0.7, with every method and threshold explicit.

Evidently picks a drift test by sample size when it is not told (p-value tests up to 1000
reference rows, distances above: GUIDE traps 22-23), which would make a flights day (~900 rows)
flip between methods. Here each monitored column has a method and a threshold from the use
case's ``monitoring`` section and an explicit ``DataDefinition`` (numerical vs categorical), and
the verdicts are recomputed from the scores with the same rule Evidently uses for distances
(``score >= threshold``), so the summary never depends on Evidently's defaults.

Evidently is imported inside the functions (3-12 s of imports), never at module level.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from include.common.usecase import MonitoringConfig, UseCase

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

PREDICTION = "prediction"  # the champion's prediction column added to both samples


@dataclass(frozen=True)
class ColumnSpec:
    column: str
    categorical: bool
    method: str
    threshold: float


@dataclass(frozen=True)
class DriftSpec:
    """What one drift report checks: per-column specs, the dataset drift share, the prediction test."""

    columns: tuple[ColumnSpec, ...]
    drift_share: float
    prediction_threshold: float
    prediction_method: str = "wasserstein"

    @property
    def names(self) -> list[str]:
        return [spec.column for spec in self.columns]

    @property
    def categorical(self) -> list[str]:
        return [spec.column for spec in self.columns if spec.categorical]

    @property
    def numerical(self) -> list[str]:
        return [spec.column for spec in self.columns if not spec.categorical]


def drift_spec(usecase: UseCase, config: MonitoringConfig | None = None) -> DriftSpec:
    """The use case's monitored columns with their explicit methods and thresholds."""
    config = config or usecase.require_monitoring()
    categorical = set(config.categorical_columns)
    columns = tuple(
        ColumnSpec(column, column in categorical,
                   config.categorical_method if column in categorical else config.numerical_method,
                   config.threshold(column, column in categorical))
        for column in usecase.monitored_columns)
    return DriftSpec(columns, config.drift_share, config.prediction_threshold)


def prepared(frame: pd.DataFrame, spec: DriftSpec, extra: list[str] | None = None) -> pd.DataFrame:
    """The monitored columns with plain dtypes: numbers as float64 (nullable ints' NA become NaN),
    categories as strings (missing values stay missing: Evidently drops nulls per column)."""
    out = pd.DataFrame(index=frame.index)
    for column in spec.numerical:
        out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in spec.categorical:
        out[column] = [None if pd.isna(value) else str(value) for value in frame[column]]
    for column in extra or []:
        out[column] = frame[column]
    return out[[*spec.names, *(extra or [])]].reset_index(drop=True)


def data_definition(spec: DriftSpec, with_prediction: bool) -> Any:
    from evidently import DataDefinition

    numerical = [*spec.numerical, *([PREDICTION] if with_prediction else [])]
    return DataDefinition(numerical_columns=numerical, categorical_columns=spec.categorical)


@dataclass
class ColumnDrift:
    column: str
    method: str
    threshold: float
    score: float | None  # None: the column has no values on one side
    drifted: bool


@dataclass
class DriftResult:
    columns: list[ColumnDrift]
    prediction: ColumnDrift | None
    drift_share_threshold: float

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def drift_share(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return self.drift_share >= self.drift_share_threshold

    def to_dict(self) -> dict[str, Any]:
        return {"columns": [asdict(c) for c in self.columns],
                "prediction": asdict(self.prediction) if self.prediction else None,
                "drifted_columns": self.drifted_columns, "drift_share": self.drift_share,
                "drift_share_threshold": self.drift_share_threshold, "dataset_drift": self.dataset_drift}


def value_drift_scores(snapshot_dict: dict[str, Any]) -> dict[str, float | None]:
    """``{column: score}`` of every ``ValueDrift`` metric in an Evidently snapshot's ``dict()``."""
    scores: dict[str, float | None] = {}
    for metric in snapshot_dict.get("metrics", []):
        config = metric.get("config") or {}
        if str(config.get("type", "")).endswith(":ValueDrift"):
            value = metric.get("value")
            number = None if value is None else float(value)
            scores[str(config["column"])] = None if number is None or math.isnan(number) else number
    return scores


def judge(spec: DriftSpec, scores: dict[str, float | None], with_prediction: bool) -> DriftResult:
    """Per-column verdicts from the scores: drifted when ``score >= threshold`` (all methods are distances)."""
    def one(column: str, method: str, threshold: float) -> ColumnDrift:
        score = scores.get(column)
        return ColumnDrift(column, method, threshold, score, score is not None and score >= threshold)

    columns = [one(c.column, c.method, c.threshold) for c in spec.columns]
    prediction = one(PREDICTION, spec.prediction_method, spec.prediction_threshold) if with_prediction else None
    return DriftResult(columns, prediction, spec.drift_share)


def drift_report(current: pd.DataFrame, reference: pd.DataFrame, spec: DriftSpec
                 ) -> tuple[Snapshot, DriftResult]:
    """Data drift of every monitored column (and of the ``prediction`` column when both frames have it)."""
    from evidently import Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    with_prediction = PREDICTION in current.columns and PREDICTION in reference.columns
    extra = [PREDICTION] if with_prediction else []
    definition = data_definition(spec, with_prediction)
    metrics: list[Any] = [DataDriftPreset(
        columns=spec.names, drift_share=spec.drift_share,
        per_column_method={c.column: c.method for c in spec.columns},
        per_column_threshold={c.column: c.threshold for c in spec.columns})]
    if with_prediction:
        metrics.append(ValueDrift(column=PREDICTION, method=spec.prediction_method,
                                  threshold=spec.prediction_threshold))
    snapshot = Report(metrics).run(  # current first (GUIDE trap 13)
        Dataset.from_pandas(prepared(current, spec, extra), data_definition=definition),
        Dataset.from_pandas(prepared(reference, spec, extra), data_definition=definition))
    return snapshot, judge(spec, value_drift_scores(snapshot.dict()), with_prediction)


def performance_report(frame: pd.DataFrame, target: str, task: str, threshold: float) -> Snapshot:
    """Evidently's classification or regression preset on labelled rows with a ``prediction`` column."""
    from evidently import BinaryClassification, DataDefinition, Dataset, Regression, Report
    from evidently.presets import ClassificationPreset, RegressionPreset

    data = pd.DataFrame({"target": frame[target].to_numpy(), PREDICTION: frame[PREDICTION].to_numpy()})
    if task == "binary_classification":
        data["target"] = data["target"].astype(int)
        definition = DataDefinition(classification=[BinaryClassification(
            target="target", prediction_probas=PREDICTION, pos_label=1)], numerical_columns=[PREDICTION],
            categorical_columns=["target"])
        preset: Any = ClassificationPreset(probas_threshold=threshold)
    else:
        data["target"] = data["target"].astype(float)
        definition = DataDefinition(regression=[Regression(target="target", prediction=PREDICTION)],
                                    numerical_columns=["target", PREDICTION])
        preset = RegressionPreset()
    return Report([preset]).run(Dataset.from_pandas(data, data_definition=definition), None)


@dataclass
class Performance:
    """The gate's primary metric on the labelled current rows vs the champion's holdout value."""

    metric: str
    value: float | None
    champion: float | None
    tolerance: float
    higher_is_better: bool
    rows: int
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def delta(self) -> float | None:
        return None if self.value is None or self.champion is None else self.value - self.champion

    @property
    def degraded(self) -> bool:
        delta = self.delta
        if delta is None:
            return False
        return -delta > self.tolerance if self.higher_is_better else delta > self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "delta": self.delta, "degraded": self.degraded}


def performance_metrics(task: str, y_true: np.ndarray, prediction: np.ndarray, threshold: float) -> dict[str, float]:
    """The same metric definitions as the training stage's holdout metrics (ROC AUC, MAE, ...)."""
    from sklearn import metrics

    if task == "binary_classification":
        if len(np.unique(y_true)) < 2:
            return {}
        predicted = (prediction >= threshold).astype(int)
        return {"roc_auc": float(metrics.roc_auc_score(y_true, prediction)),
                "pr_auc": float(metrics.average_precision_score(y_true, prediction)),
                "f1": float(metrics.f1_score(y_true, predicted, zero_division=0)),
                "brier": float(metrics.brier_score_loss(y_true, prediction))}
    if len(y_true) < 2:
        return {}
    return {"mae": float(metrics.mean_absolute_error(y_true, prediction)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, prediction))),
            "r2": float(metrics.r2_score(y_true, prediction))}

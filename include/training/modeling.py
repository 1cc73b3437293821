"""Training building blocks: time-based split, one scikit-learn Pipeline, metrics overall and per slice.

Features and preprocessing live in a single ``Pipeline`` (``ColumnTransformer`` + estimator), so
the model that is trained is exactly the model that is served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd

from include.common.partitioning import PartitionWidth, last_day, partition_start, shift
from include.common.usecase import MODEL_FAMILIES

TaskType = Literal["binary_classification", "regression"]


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    train_days: tuple[date, date]
    holdout_days: tuple[date, date]


def holdout_range(window_end: date, holdout_days: int, width: PartitionWidth = "day") -> tuple[date, date]:
    """The held-out part of a training window: its last ``holdout_days`` **partitions** (days, weeks or
    months, the use case's width), from the first held-out partition's start to the last day of the
    window's last partition (``window_end`` is a day in it, normally its start). The one definition
    that the split, the gate and evaluate-only runs all use."""
    last_start = partition_start(window_end, width)
    return shift(last_start, -(holdout_days - 1), width), last_day(last_start, width)


def time_split(frame: pd.DataFrame, date_column: str, holdout: tuple[date, date]) -> Split:
    """Hold out the rows whose ``date_column`` (the partition start each row carries) lies in ``holdout``
    (see ``holdout_range``); train on the rows before it."""
    days = pd.to_datetime(frame[date_column]).dt.date
    first_held_out, last_held_out = holdout
    train = frame[days < first_held_out]
    held_out = frame[(days >= first_held_out) & (days <= last_held_out)]
    if train.empty or held_out.empty:
        raise ValueError(f"time split at {first_held_out}: train has {len(train)} rows, holdout {len(held_out)}; "
                         "load more days or shorten the holdout")
    return Split(train, held_out, (min(days), first_held_out - timedelta(days=1)), holdout)


def labelled(frame: pd.DataFrame, target: str, task: TaskType) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with a label (e.g. cancelled flights have none) and the label as a number."""
    rows = frame[frame[target].notna()]
    label = rows[target].astype(int if task == "binary_classification" else float)
    return rows, label


def estimator(family: str, task: TaskType, params: dict[str, Any], seed: int) -> Any:
    """The model of ``family`` for ``task``, seeded; ``params`` are its hyperparameters."""
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge

    classification = task == "binary_classification"
    if family == "hist_gradient_boosting":
        model_class = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
        return model_class(random_state=seed, **params)
    if family == "random_forest":
        model_class = RandomForestClassifier if classification else RandomForestRegressor
        return model_class(random_state=seed, **{"n_estimators": 200, "min_samples_leaf": 5, "n_jobs": 1, **params})
    if family == "linear":
        if classification:
            return LogisticRegression(random_state=seed, **{"max_iter": 2000, **params})
        return Ridge(random_state=seed, **params)
    raise ValueError(f"unknown model family {family!r}; use one of {list(MODEL_FAMILIES)}")


def check_hyperparameters(family: str, task: TaskType, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the problem when ``params`` do not fit the family's estimator."""
    try:
        estimator(family, task, params, seed=0)._validate_params()
    except (TypeError, ValueError) as error:
        raise ValueError(f"hyperparameters {params} do not fit model family {family!r}: {error}") from None


def build_pipeline(frame: pd.DataFrame, features: list[str], task: TaskType, params: dict[str, Any],
                   seed: int, family: str = "hist_gradient_boosting") -> Any:
    """Impute + one-hot categorical features (and scale numbers for linear models), then the model."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    categorical = [f for f in features if not pd.api.types.is_numeric_dtype(frame[f])]
    numeric = [f for f in features if f not in categorical]
    numeric_steps = [SimpleImputer(strategy="median"), *([StandardScaler()] if family == "linear" else [])]
    preprocess = ColumnTransformer([
        ("numeric", make_pipeline(*numeric_steps), numeric),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20, sparse_output=False)),
         categorical),
    ])
    return Pipeline([("preprocess", preprocess), ("model", estimator(family, task, params, seed))])


def predict(model: Any, frame: pd.DataFrame, task: TaskType) -> np.ndarray:
    """Probability of the positive class (classification) or the predicted value (regression)."""
    if task == "binary_classification":
        return np.asarray(model.predict_proba(frame)[:, 1], dtype=float)
    return np.asarray(model.predict(frame), dtype=float)


def classification_metrics(y_true: np.ndarray, probability: np.ndarray, threshold: float) -> dict[str, float]:
    from sklearn import metrics

    if len(np.unique(y_true)) < 2:
        return {"rows": float(len(y_true))}
    predicted = (probability >= threshold).astype(int)
    return {
        "roc_auc": float(metrics.roc_auc_score(y_true, probability)),
        "pr_auc": float(metrics.average_precision_score(y_true, probability)),
        "f1": float(metrics.f1_score(y_true, predicted, zero_division=0)),
        "log_loss": float(metrics.log_loss(y_true, probability, labels=[0, 1])),
        "brier": float(metrics.brier_score_loss(y_true, probability)),
        "rows": float(len(y_true)),
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    from sklearn import metrics

    return {
        "mae": float(metrics.mean_absolute_error(y_true, predicted)),
        "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, predicted))),
        "r2": float(metrics.r2_score(y_true, predicted)) if len(y_true) > 1 else float("nan"),
        "rows": float(len(y_true)),
    }


def score(task: TaskType, y_true: np.ndarray, prediction: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    if task == "binary_classification":
        return classification_metrics(y_true, prediction, threshold)
    return regression_metrics(y_true, prediction)


def slice_metrics(task: TaskType, frame: pd.DataFrame, y_true: np.ndarray, prediction: np.ndarray,
                  slices: list[str], threshold: float = 0.5) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics per value of each slice column: ``{column: {value: metrics}}``."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for column in slices:
        values = frame[column].astype(str).to_numpy()
        result[column] = {value: score(task, y_true[values == value], prediction[values == value], threshold)
                          for value in sorted(set(values))}
    return result

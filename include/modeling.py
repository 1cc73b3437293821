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

TaskType = Literal["binary_classification", "regression"]


@dataclass(frozen=True)
class Split:
    train: pd.DataFrame
    holdout: pd.DataFrame
    train_days: tuple[date, date]
    holdout_days: tuple[date, date]


def time_split(frame: pd.DataFrame, date_column: str, holdout_days: int) -> Split:
    """Hold out the most recent ``holdout_days`` days; train on everything before them."""
    days = pd.to_datetime(frame[date_column]).dt.date
    last = max(days)
    cutoff = last - timedelta(days=holdout_days - 1)
    train, holdout = frame[days < cutoff], frame[days >= cutoff]
    if train.empty or holdout.empty:
        raise ValueError(f"time split at {cutoff}: train has {len(train)} rows, holdout {len(holdout)}; "
                         "load more days or shorten the holdout")
    first = min(days)
    return Split(train, holdout, (first, cutoff - timedelta(days=1)), (cutoff, last))


def labelled(frame: pd.DataFrame, target: str, task: TaskType) -> tuple[pd.DataFrame, pd.Series]:
    """Rows with a label (e.g. cancelled flights have none) and the label as a number."""
    rows = frame[frame[target].notna()]
    label = rows[target].astype(int if task == "binary_classification" else float)
    return rows, label


def build_pipeline(frame: pd.DataFrame, features: list[str], task: TaskType, params: dict[str, Any],
                   seed: int) -> Any:
    """Impute + one-hot categorical features, then a histogram gradient-boosting model."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    categorical = [f for f in features if not pd.api.types.is_numeric_dtype(frame[f])]
    numeric = [f for f in features if f not in categorical]
    preprocess = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), numeric),
        ("categorical", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="missing"),
            OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20, sparse_output=False)),
         categorical),
    ])
    estimator_class = HistGradientBoostingClassifier if task == "binary_classification" \
        else HistGradientBoostingRegressor
    return Pipeline([("preprocess", preprocess), ("model", estimator_class(random_state=seed, **params))])


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

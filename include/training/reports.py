"""Evaluation plots (PNG) and the model card (Markdown) logged with every trained model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from include.common.environments import usecase_names
from include.common.metrics import Metrics, SliceMetrics
from include.common.usecase import UseCase
from include.training.trainer import Evaluation, RunSettings


def _figure() -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(5.5, 4.5), dpi=100)


def _save(figure: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def classification_plots(evaluation: Evaluation, threshold: float, folder: Path) -> list[Path]:
    """ROC and precision-recall curves, confusion matrix at ``threshold``, calibration curve."""
    from sklearn.calibration import CalibrationDisplay
    from sklearn.metrics import ConfusionMatrixDisplay, PrecisionRecallDisplay, RocCurveDisplay

    y, p = evaluation.y_true, evaluation.prediction
    paths = []
    draws: list[tuple[str, Callable[[Any], Any]]] = [
        ("roc_curve", lambda ax: RocCurveDisplay.from_predictions(y, p, ax=ax, plot_chance_level=True)),
        ("pr_curve", lambda ax: PrecisionRecallDisplay.from_predictions(y, p, ax=ax, plot_chance_level=True)),
        ("confusion_matrix", lambda ax: ConfusionMatrixDisplay.from_predictions(
            y, (p >= threshold).astype(int), ax=ax, colorbar=False)),
        ("calibration", lambda ax: CalibrationDisplay.from_predictions(y, p, n_bins=10, ax=ax)),
    ]
    for name, draw in draws:
        figure, axes = _figure()
        draw(axes)
        axes.set_title(name.replace("_", " "))
        paths.append(_save(figure, folder / f"{name}.png"))
    return paths


def regression_plots(evaluation: Evaluation, folder: Path) -> list[Path]:
    """Residuals against the prediction, and predicted against actual values."""
    from sklearn.metrics import PredictionErrorDisplay

    paths = []
    for name, kind in [("residuals", "residual_vs_predicted"), ("predicted_vs_actual", "actual_vs_predicted")]:
        figure, axes = _figure()
        PredictionErrorDisplay.from_predictions(evaluation.y_true, evaluation.prediction, kind=kind, ax=axes,
                                                subsample=2000, random_state=0)
        axes.set_title(name.replace("_", " "))
        paths.append(_save(figure, folder / f"{name}.png"))
    return paths


def importance_plot(importance: dict[str, float], folder: Path) -> Path:
    figure, axes = _figure()
    names = list(importance)[::-1]
    axes.barh(names, [importance[n] for n in names])
    axes.set_title("permutation importance (holdout)")
    return _save(figure, folder / "feature_importance.png")


def _metric_row(name: str, metrics: Metrics, columns: list[str]) -> str:
    return f"| {name} | " + " | ".join(_fmt(metrics.get(c)) for c in columns) + " |"


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1 else f"{value:.4f}"


def metrics_table(overall: Metrics, slices: SliceMetrics) -> str:
    """Markdown table: the overall metrics, then one row per slice value."""
    columns = sorted(overall, key=lambda c: (c == "rows", c))
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|",
             _metric_row("**overall**", overall, columns)]
    for column, values in slices.items():
        lines += [_metric_row(f"{column}={value}", metrics, columns) for value, metrics in values.items()]
    return "\n".join(lines)


def model_card(*, usecase: UseCase, settings: RunSettings, data: dict[str, str], split_days: dict[str, str],
               train_rows: int, evaluation: Evaluation, train_metrics: Metrics, importance: dict[str, float],
               code_version: str, run_id: str) -> str:
    """A short model card: what the model is, what it was trained on, how good it is, its limits."""
    training = usecase.require_training()
    top = ", ".join(f"{name} ({value:.3f})" for name, value in list(importance.items())[:5]) or "n/a"
    limits = "\n".join(f"- {limit}" for limit in training.known_limits) or "- none recorded"
    hyper = ", ".join(f"{k}={v}" for k, v in sorted(settings.hyperparameters.items())) or "defaults"
    return f"""# Model card: {usecase_names(usecase).registered_model}

**Use case** `{usecase.name}` ({usecase.task}): {usecase.description}
Owner: {usecase.owner}. MLflow run `{run_id}`.

## Data
- lakeFS repository `{data['repository']}`, commit `{data['commit_id']}`
  ({data['uri']})
- Window {settings.window_start} to {settings.window_end}: training days {split_days['train']},
  holdout days {split_days['holdout']} ({train_rows} labelled training rows,
  {int(evaluation.metrics['rows'])} holdout rows).
- Target `{usecase.target}`; features: {', '.join(f'`{f}`' for f in usecase.features)}.
{'- **Trained on shuffled labels (sanity check): not a usable model.**' if settings.shuffle_labels else ''}

## Model
Family `{settings.family}` ({hyper}), seed {settings.seed}, one scikit-learn Pipeline
(imputation and one-hot encoding in a ColumnTransformer, then the estimator).
{f'Decision threshold {settings.decision_threshold}.' if usecase.task == 'binary_classification' else ''}
Most important features on the holdout (permutation importance): {top}.

## Holdout metrics
{metrics_table(evaluation.metrics, evaluation.slices)}

On the training days: {', '.join(f'{name} {_fmt(value)}' for name, value in train_metrics.items() if name != 'rows')}
(a large gap to the holdout means overfitting or a shift between the periods).

## Known limits
{limits}

## Reproduce
Code version `{code_version}`. With the stack up:

    make reproduce RUN_ID={run_id}

reads the same lakeFS commit and `run_settings.json`, retrains, and compares every metric.
"""

"""Guard rails of drift-triggered retraining (pure): each refusal is a sentence for the task log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from include.common.retraining import cooldown_refusal
from include.common.usecase import RetrainingGuardConfig


@dataclass(frozen=True)
class RetrainingContext:
    day: date
    drift_reasons: tuple[str, ...]  # empty: nothing beyond the thresholds
    from_backfill: bool
    backfill_allowed: bool  # the use case's retraining.from_backfill or the run's param
    earlier_requests: tuple[date, ...]  # days whose drift already requested a retraining
    champion_window_end: date
    new_labelled_rows: int  # labelled rows in partitions after the champion's window, up to the day


def retraining_refusal(context: RetrainingContext, config: RetrainingGuardConfig) -> str | None:
    """Why this day's drift must not start a retraining, or None when it may (checked in this order)."""
    if not context.drift_reasons:
        return "no drift beyond the thresholds: nothing to retrain"
    if context.from_backfill and not (context.backfill_allowed or config.from_backfill):
        return ("backfill run: drift in a history replay requests no retraining (set monitoring.retraining."
                "from_backfill or the run's retrain_in_backfill param to ask for it)")
    if context.day <= context.champion_window_end:
        return (f"{context.day} is inside the champion's own window (to {context.champion_window_end}): "
                "a retraining would see no newer data")
    if context.new_labelled_rows < config.min_new_labelled_rows:
        return (f"only {context.new_labelled_rows} labelled rows after the champion's window "
                f"(to {context.champion_window_end}); retraining needs {config.min_new_labelled_rows}")
    return cooldown_refusal(context.day, context.earlier_requests, config.cooldown_days)


def drift_reasons(summary: dict[str, object]) -> list[str]:
    """What went beyond the thresholds in a day's summary, one line each (empty: nothing)."""
    reasons = []
    drift = summary.get("drift") or {}
    assert isinstance(drift, dict)
    if drift.get("dataset_drift"):
        scores = {c["column"]: c["score"] for c in drift.get("columns", []) if c["drifted"]}
        listed = ", ".join(f"{column} {score:.3g}" for column, score in scores.items())
        reasons.append(f"data drift: {len(scores)} of {len(drift.get('columns', []))} columns "
                       f"(share {drift['drift_share']:.2f} >= {drift['drift_share_threshold']}): {listed}")
    prediction = drift.get("prediction") or {}
    if prediction.get("drifted"):
        reasons.append(f"prediction drift: {prediction['method']} {prediction['score']:.3g} >= "
                       f"{prediction['threshold']}")
    performance = summary.get("performance") or {}
    assert isinstance(performance, dict)
    if performance.get("degraded"):
        reasons.append(f"performance: {performance['metric']} {performance['value']:.3f} vs champion "
                       f"{performance['champion']:.3f} (tolerance {performance['tolerance']})")
    return reasons


def days_between(first: date, last: date, available: Iterable[date]) -> list[date]:
    """Partitions strictly after ``first`` up to ``last`` (inclusive)."""
    return sorted(d for d in available if first < d <= last)

"""Guard rails of drift-triggered retraining: each refusal names its reason."""

from __future__ import annotations

from datetime import date

from include.common.usecase import RetrainingGuardConfig
from include.monitoring.guards import RetrainingContext, drift_reasons, retraining_refusal

CONFIG = RetrainingGuardConfig(cooldown_days=7, min_new_labelled_rows=1000, from_backfill=False)
DAY = date(2013, 3, 10)


def context(**changes: object) -> RetrainingContext:
    base = dict(day=DAY, drift_reasons=("data drift: ...",), from_backfill=False, backfill_allowed=False,
                earlier_requests=(), champion_window_end=date(2013, 1, 31), new_labelled_rows=5000)
    return RetrainingContext(**{**base, **changes})  # type: ignore[arg-type]


def test_drift_with_new_data_and_no_recent_request_may_retrain() -> None:
    assert retraining_refusal(context(), CONFIG) is None


def test_each_rail_says_why() -> None:
    assert "no drift" in str(retraining_refusal(context(drift_reasons=()), CONFIG))
    assert "backfill run" in str(retraining_refusal(context(from_backfill=True), CONFIG))
    assert "inside the champion's own window" in str(retraining_refusal(context(champion_window_end=DAY), CONFIG))
    assert retraining_refusal(context(new_labelled_rows=999), CONFIG) == (
        "only 999 labelled rows after the champion's window (to 2013-01-31); retraining needs 1000")
    refusal = retraining_refusal(context(earlier_requests=(date(2013, 3, 5),)), CONFIG)
    assert refusal == ("cool-down: a drift-triggered retraining was already requested for 2013-03-05 "
                       "(5 days from 2013-03-10; at most one per 7 days)")


def test_a_backfill_may_retrain_when_asked() -> None:
    assert retraining_refusal(context(from_backfill=True, backfill_allowed=True), CONFIG) is None
    allowed = RetrainingGuardConfig(cooldown_days=7, min_new_labelled_rows=1000, from_backfill=True)
    assert retraining_refusal(context(from_backfill=True), allowed) is None


def test_drift_reasons_say_what_and_by_how_much() -> None:
    summary = {"drift": {"dataset_drift": True, "drift_share": 0.5, "drift_share_threshold": 0.3,
                         "columns": [{"column": "temp", "score": 2.5, "drifted": True},
                                     {"column": "dest", "score": 0.05, "drifted": False}],
                         "prediction": {"method": "wasserstein", "score": 0.31, "threshold": 0.1, "drifted": True}},
               "performance": {"degraded": True, "metric": "roc_auc", "value": 0.6, "champion": 0.7,
                               "tolerance": 0.05}}
    assert drift_reasons(summary) == [
        "data drift: 1 of 2 columns (share 0.50 >= 0.3): temp 2.5",
        "prediction drift: wasserstein 0.31 >= 0.1",
        "performance: roc_auc 0.600 vs champion 0.700 (tolerance 0.05)"]
    assert drift_reasons({"drift": {"dataset_drift": False, "prediction": None}, "performance": {}}) == []

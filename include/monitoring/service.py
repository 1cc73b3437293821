"""The monitoring stage as plain functions: one monitored day from data to reports and figures.

``build_day_report`` compares the day (or a trailing window, see ``windows.current_window``) with
the champion's training data (the lakeFS commit and window recorded on its MLflow run, sampled if
large) and writes Evidently's drift and performance reports and a summary into a folder;
``record_day`` renders the trend plot and logs everything to MLflow. Operators, benchmarks and
tests call these with their clients (``MlflowClient``, lakeFS ``Repository``).
"""

from __future__ import annotations

import io
import logging
import resource
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from include.common.datasets import partition_days, read_days, read_object
from include.common.metadata import MonitoringKey
from include.common.metrics import METRIC_DIRECTIONS, Direction
from include.common.usecase import UseCase
from include.monitoring.champion import Champion, find_champion, load_champion_model, predict
from include.monitoring.drift import (
    PREDICTION,
    Performance,
    drift_report,
    drift_spec,
    performance_metrics,
    performance_report,
)
from include.monitoring.guards import drift_reasons
from include.monitoring.reports import DRIFT, PERFORMANCE, TREND, save_snapshot, save_summary, trend_plot
from include.monitoring.tracking import MonitoringRun, log_day, trend_points
from include.monitoring.windows import current_window, sample_reference

if TYPE_CHECKING:
    from lakefs import Repository
    from mlflow import MlflowClient

log = logging.getLogger(__name__)


class MonitoringSkip(Exception):
    """Nothing meaningful to report for this day (no champion yet, too few rows): the reason says why."""


@dataclass
class DayReport:
    summary: dict[str, Any]
    metrics: dict[str, float]
    folder: Path

    @property
    def verdict(self) -> str:
        return str(self.summary["verdict"])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def require_champion(client: MlflowClient, usecase: UseCase) -> Champion:
    champion = find_champion(client, usecase)
    if champion is None:
        model = usecase.require_training().registered_model
        raise MonitoringSkip(f"no champion yet: registered model {model!r} has no 'champion' alias, so there is "
                             "no production model to watch (train and promote one first)")
    return champion


def performance_of(usecase: UseCase, champion: Champion, labelled: pd.DataFrame) -> Performance:
    gate = usecase.require_training().gate
    metric = gate.primary_metric
    values = performance_metrics(usecase.task, labelled[usecase.target].astype(float).to_numpy(),
                                 labelled[PREDICTION].to_numpy(), champion.decision_threshold)
    return Performance(metric=metric, value=values.get(metric), champion=champion.holdout_metrics.get(metric),
                       tolerance=usecase.require_monitoring().performance_tolerance,
                       higher_is_better=METRIC_DIRECTIONS[metric] is Direction.HIGHER, rows=len(labelled),
                       metrics=values)


def build_day_report(client: MlflowClient, repository: Repository, usecase: UseCase, day: date, ref: str,
                     folder: Path) -> DayReport:
    """Reports of ``day`` (curated data at lakeFS ``ref``) against the champion, written into ``folder``.

    Raises ``MonitoringSkip`` when there is no champion or too few rows even in the widest window."""
    from include.monitoring.windows import TooSmallError

    started = time.perf_counter()
    config = usecase.require_monitoring()
    champion = require_champion(client, usecase)
    frames: dict[date, pd.DataFrame] = {}

    def rows_of(start: date) -> int:
        frames[start] = read_days(repository, ref, usecase, start, start)
        return len(frames[start])

    try:
        window = current_window(day, partition_days(repository, ref, usecase), rows_of,
                                min_rows=config.min_rows, max_window=config.max_window, width=usecase.partition_width)
    except TooSmallError as error:
        raise MonitoringSkip(f"{usecase.name} {day}: {error}") from None
    current = pd.concat([frames[start] for start in window.days], ignore_index=True)
    reference_all = read_days(repository, champion.commit_id, usecase, champion.window_start, champion.window_end)
    reference, sample = sample_reference(reference_all, config.reference_sample)
    read_seconds = time.perf_counter() - started

    model_started = time.perf_counter()
    model = load_champion_model(client, champion)
    current[PREDICTION] = predict(model, current, usecase.features, usecase.task)
    reference[PREDICTION] = predict(model, reference, usecase.features, usecase.task)
    model_seconds = time.perf_counter() - model_started

    from evidently import __version__ as evidently_version  # after the cheap skips: 4-12 s of imports

    report_started = time.perf_counter()
    spec = drift_spec(usecase)
    snapshot, drift = drift_report(current, reference, spec)
    save_snapshot(snapshot, folder, DRIFT)
    labelled = current[current[usecase.target].notna()]
    performance = performance_of(usecase, champion, labelled)
    if len(labelled) >= 2:
        save_snapshot(performance_report(labelled, usecase.target, usecase.task, champion.decision_threshold),
                      folder, PERFORMANCE)
    report_seconds = time.perf_counter() - report_started

    summary: dict[str, Any] = {
        "usecase": usecase.name, "day": day.isoformat(), "champion": champion.to_dict(),
        "reference": {"repository": champion.repository, "commit": champion.commit_id,
                      "window": [champion.window_start.isoformat(), champion.window_end.isoformat()],
                      **sample.to_dict()},
        "current": {"repository": repository.id, "commit": ref, "days": [d.isoformat() for d in window.days],
                    "rows": window.rows, "widened": window.widened, "labelled_rows": len(labelled),
                    "inside_champion_window": champion.window_start <= day <= champion.window_end},
        "drift": drift.to_dict(), "performance": performance.to_dict(),
        "evidently": evidently_version,
    }
    reasons = drift_reasons(summary)
    summary.update(verdict="drift" if reasons else "ok", reasons=reasons,
                   seconds={"read": round(read_seconds, 2), "model": round(model_seconds, 2),
                            "reports": round(report_seconds, 2),
                            "total": round(time.perf_counter() - started, 2)},
                   peak_rss_mb=round(peak_rss_mb(), 1))
    save_summary(summary, folder)
    return DayReport(summary, summary_metrics(summary, usecase), folder)


def summary_metrics(summary: dict[str, Any], usecase: UseCase) -> dict[str, float]:
    """The day's figures as MLflow metrics (no ``None``: a figure that does not exist is not logged)."""
    drift, performance = summary["drift"], summary["performance"]
    metrics: dict[str, float | None] = {
        "drift.share": drift["drift_share"], "drift.drifted_columns": len(drift["drifted_columns"]),
        "drift.dataset": float(drift["dataset_drift"]), "current.rows": summary["current"]["rows"],
        "current.labelled_rows": summary["current"]["labelled_rows"],
        "current.window_partitions": len(summary["current"]["days"]),
        "reference.rows": summary["reference"]["rows"], "reference.sampled": summary["reference"]["sampled"],
        "verdict.drift": 1.0 if summary["verdict"] == "drift" else 0.0,
    }
    metrics.update({f"drift.score.{c['column']}": c["score"] for c in drift["columns"]})
    if drift.get("prediction"):
        metrics["prediction.drift_score"] = drift["prediction"]["score"]
        metrics["prediction.drifted"] = float(drift["prediction"]["drifted"])
    metrics.update({f"performance.{name}": value for name, value in performance["metrics"].items()})
    metrics[f"champion.{performance['metric']}"] = performance["champion"]
    metrics["performance.delta"] = performance["delta"]
    metrics["performance.degraded"] = float(performance["degraded"])
    metrics.update({f"seconds.{name}": value for name, value in summary.get("seconds", {}).items()})
    return {key: float(value) for key, value in metrics.items() if value is not None}


def record_day(client: MlflowClient, usecase: UseCase, day: date, report: DayReport, tags: dict[str, str]
               ) -> tuple[MonitoringRun, list[str]]:
    """Render the trend plot of the last ``trend_days`` (earlier days from MLflow + this one) into the report
    folder, then replace the day's MLflow run with the reports, the summary figures and the plot."""
    config = usecase.require_monitoring()
    points = [p for p in trend_points(client, usecase, day, config.trend_days) if p["day"] != day]
    points.append({**report.metrics, "day": day, "verdict": report.verdict})
    points.sort(key=lambda p: p["day"])
    trend_plot(points, report.folder / TREND, title=f"{usecase.name}: monitoring of "
               f"{report.summary['champion']['model_name']} v{report.summary['champion']['version']}, "
               f"{points[0]['day']} to {day}", drift_share_threshold=config.drift_share,
               prediction_threshold=config.prediction_threshold,
               performance_metric=report.summary["performance"]["metric"])
    champion, drift = report.summary["champion"], report.summary["drift"]
    run_tags = {**tags, MonitoringKey.MODEL_NAME: champion["model_name"],
                MonitoringKey.MODEL_VERSION: champion["version"],
                MonitoringKey.REFERENCE_COMMIT: report.summary["reference"]["commit"],
                MonitoringKey.REFERENCE_WINDOW: " to ".join(report.summary["reference"]["window"]),
                MonitoringKey.CURRENT_COMMIT: report.summary["current"]["commit"],
                MonitoringKey.CURRENT_WINDOW: " to ".join(report.summary["current"]["days"][::len(
                    report.summary["current"]["days"]) - 1 or 1]),
                MonitoringKey.VERDICT: report.verdict,
                MonitoringKey.DRIFTED_COLUMNS: ",".join(drift["drifted_columns"])[:5000]}
    params = {"min_rows": str(config.min_rows), "max_window": str(config.max_window),
              "drift_share_threshold": str(config.drift_share),
              "prediction_threshold": str(config.prediction_threshold),
              "reference_sample": str(config.reference_sample),
              "performance_tolerance": str(config.performance_tolerance),
              **{f"column.{c['column']}": f"{c['method']}>={c['threshold']}" for c in drift["columns"]}}
    return log_day(client, usecase, day, tags=run_tags, params=params, metrics=report.metrics,
                   folder=str(report.folder))


def labelled_rows_after(repository: Repository, ref: str, usecase: UseCase, after: date, last: date) -> int:
    """Labelled rows (target present) in the partitions after ``after`` up to ``last`` at ``ref``; reads only
    the target column of each partition."""
    total = 0
    for start in partition_days(repository, ref, usecase):
        if after < start <= last:
            content = read_object(repository, ref, usecase.partition_path(start))
            total += int(pd.read_parquet(io.BytesIO(content), columns=[usecase.target])[usecase.target].notna().sum())
    return total

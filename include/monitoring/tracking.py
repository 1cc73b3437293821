"""MLflow records of monitoring: one run per use case and monitored day in experiment
``monitor_<name>``, holding the day's reports and summary figures (metrics with the day as step).

A re-run of a day deletes that day's earlier run(s) and logs a fresh one, so each day has exactly
one live run. The day is also a metric (``day``: days since 1970-01-01), which is what makes
ranges of days searchable (MLflow compares metrics, not tags, with < and >).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from include.common.metadata import MonitoringKey, RunKind, TagKey, monitoring_experiment_name
from include.common.usecase import UseCase

if TYPE_CHECKING:
    from mlflow import MlflowClient

EPOCH = date(1970, 1, 1)
DAY_METRIC = "day"


def day_number(day: date) -> int:
    return (day - EPOCH).days


def from_day_number(number: float) -> date:
    return EPOCH + timedelta(days=int(number))


def experiment_id(client: MlflowClient, usecase: UseCase) -> str:
    name = monitoring_experiment_name(usecase.name)
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    from mlflow.exceptions import MlflowException

    try:
        return str(client.create_experiment(name))
    except MlflowException:  # created meanwhile by a parallel run of another day
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return str(found.experiment_id)


@dataclass(frozen=True)
class MonitoringRun:
    run_id: str
    experiment_id: str

    def run_url(self, ui_url: str) -> str:
        return f"{ui_url}/#/experiments/{self.experiment_id}/runs/{self.run_id}"

    def artifact_url(self, ui_url: str, path: str) -> str:
        """The MLflow UI's artifact view, which renders HTML reports and images."""
        return f"{self.run_url(ui_url)}/artifacts/{path}"


def day_filter(usecase: UseCase, first: date, last: date) -> str:
    return (f"tags.`{TagKey.USECASE}` = '{usecase.name}' and metrics.`{DAY_METRIC}` >= {day_number(first)} "
            f"and metrics.`{DAY_METRIC}` <= {day_number(last)}")


def runs_of_days(client: MlflowClient, usecase: UseCase, first: date, last: date) -> list[Any]:
    experiment = client.get_experiment_by_name(monitoring_experiment_name(usecase.name))
    if experiment is None:
        return []
    return list(client.search_runs([experiment.experiment_id], day_filter(usecase, first, last),
                                   max_results=5000, order_by=[f"metrics.`{DAY_METRIC}` ASC"]))


def metric_values(metrics: dict[str, float], day: date) -> list[Any]:
    """MLflow metrics at step = the day (days since 1970) and the day's midnight as timestamp."""
    from mlflow.entities import Metric

    stamp = int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1000)
    return [Metric(key, float(value), stamp, day_number(day)) for key, value in metrics.items()]


def log_day(client: MlflowClient, usecase: UseCase, day: date, *, tags: dict[str, str], params: dict[str, str],
            metrics: dict[str, float], folder: str) -> tuple[MonitoringRun, list[str]]:
    """Replace the day's monitoring run: delete earlier ones, log tags, params, metrics and every file in
    ``folder`` (under ``reports/``). Returns the new run and the ids of the deleted ones."""
    replaced = [run.info.run_id for run in runs_of_days(client, usecase, day, day)]
    for run_id in replaced:
        client.delete_run(run_id)
    experiment = experiment_id(client, usecase)
    run_tags = {**tags, TagKey.USECASE: usecase.name, TagKey.KIND: RunKind.MONITORING, MonitoringKey.DAY:
                day.isoformat()}
    run = client.create_run(experiment, run_name=f"{usecase.name} {day.isoformat()}", tags=run_tags)
    run_id = str(run.info.run_id)
    try:
        from mlflow.entities import Param

        client.log_batch(run_id, metrics=metric_values({**metrics, DAY_METRIC: day_number(day)}, day),
                         params=[Param(k, str(v)[:6000]) for k, v in params.items()])
        client.log_artifacts(run_id, folder, "reports")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED", end_time=int(time.time() * 1000))
    return MonitoringRun(run_id, experiment), replaced


def trend_points(client: MlflowClient, usecase: UseCase, last: date, days: int) -> list[dict[str, Any]]:
    """The monitored days of the ``days`` days up to ``last`` with their summary figures, oldest first."""
    points = []
    for run in runs_of_days(client, usecase, last - timedelta(days=days - 1), last):
        metrics = run.data.metrics
        points.append({**metrics, "day": from_day_number(metrics[DAY_METRIC]),
                       "verdict": run.data.tags.get(MonitoringKey.VERDICT, "")})
    return points


def retraining_requests(client: MlflowClient, usecase: UseCase, around: date, days: int) -> list[date]:
    """Monitored days within ``days`` of ``around`` whose drift requested a retraining."""
    runs = runs_of_days(client, usecase, around - timedelta(days=days), around + timedelta(days=days))
    return [date.fromisoformat(run.data.tags[MonitoringKey.DAY]) for run in runs
            if run.data.tags.get(MonitoringKey.RETRAIN_REQUESTED) == "true"]


def mark_retraining_requested(client: MlflowClient, run_id: str) -> None:
    client.set_tag(run_id, MonitoringKey.RETRAIN_REQUESTED, "true")

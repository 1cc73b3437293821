"""Operators of ``monitor_<use case>``: wait for the partition -> report the day against the champion ->
alert on drift -> request a retraining (the ``drift_<name>`` Asset event) within the guard rails.

Thin wiring around ``include.monitoring.service``; every skip says why in the task log.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from airflow.sdk import BaseSensorOperator

from mlops.hooks.mlflow import MlflowHook
from mlops.links import DriftReportLink, LakeFSLink, MlflowRunLink, TrendPlotLink, push_link
from mlops.operators.base import InputError, UseCaseOperator, as_bool, optional_text

if TYPE_CHECKING:
    from include.common.usecase import UseCase

DAY_TEMPLATE = "{{ params.day or '' }}"
INTERVAL_TEMPLATE = "{{ dag_run.data_interval_start.isoformat() if dag_run.data_interval_start else '' }}"


def monitored_day(usecase: UseCase, day: Any, interval_start: Any) -> date:
    """The ``day`` param of a manual run, else the partition the data interval starts (source time zone).

    A ``day`` outside the source's partitions fails at once naming the parameter (``InputError``, no
    retry): the sensor would otherwise wait its whole timeout for a partition that never comes.
    """
    from include.common.params import ParameterError, check_date_in_range, parse_date
    from include.common.partitioning import require_partition_start

    text, start = optional_text(day), optional_text(interval_start)
    try:
        if text:
            value = parse_date("day", text)
            check_date_in_range("day", value, *usecase.partition_range(),
                                what=f"the source's {usecase.partition_width} partitions")
            try:
                return require_partition_start(value, usecase.partition_width)
            except ValueError as error:
                raise ParameterError("day", str(error)) from None
        if start:
            value = datetime.fromisoformat(start).astimezone(ZoneInfo(usecase.source.timezone)).date()
        else:
            raise ValueError("a manual run needs the 'day' parameter (it has no data interval)")
        return require_partition_start(value, usecase.partition_width)
    except ValueError as error:
        raise InputError(f"{usecase.name}: no day to monitor: {error}") from None


DAY_FIELDS: Sequence[str] = ("day", "data_interval_start")


class WaitForPartitionSensor(BaseSensorOperator):
    """Wait (rescheduling, no slot held) until the day's curated partition is on lakeFS ``main``."""

    template_fields: Sequence[str] = DAY_FIELDS

    def __init__(self, *, usecase: str, day: Any, data_interval_start: Any = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usecase, self.day, self.data_interval_start = usecase, day, data_interval_start

    def poke(self, context: Any) -> bool:
        from include.common.usecase import load_usecase
        from mlops.hooks.lakefs import LakeFSHook

        usecase = load_usecase(self.usecase)
        day = monitored_day(usecase, self.day, self.data_interval_start)
        path = usecase.partition_path(day)
        found = LakeFSHook(repository=usecase.lakefs_repository).object_checksum("main", path) is not None
        self.log.info("%s on lakeFS %s@main: %s", path, usecase.lakefs_repository, "found" if found else "not yet")
        return found


class MonitorDayOperator(UseCaseOperator):
    """Evidently reports of the day against the champion's training data, versioned on lakeFS under
    ``monitoring/<name>/<day>/`` and logged to MLflow (experiment ``monitor_<name>``, one run per day)."""

    template_fields: Sequence[str] = DAY_FIELDS
    operator_extra_links = (DriftReportLink(), TrendPlotLink(), MlflowRunLink(), LakeFSLink())

    def __init__(self, *, day: Any, data_interval_start: Any = "", mlflow_conn_id: str = MlflowHook.default_conn_name,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.day, self.data_interval_start, self.mlflow_conn_id = day, data_interval_start, mlflow_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.lineage import branch_name
        from include.common.metadata import MonitoringKey, RunKey
        from include.monitoring.champion import ChampionError
        from include.monitoring.reports import TREND
        from include.monitoring.service import MonitoringSkip, build_day_report, record_day
        from mlops.run_context import metadata_from_context

        usecase = self.load_usecase()
        day = monitored_day(usecase, self.day, self.data_interval_start)
        hook, mlflow = self.lakefs(usecase), MlflowHook(self.mlflow_conn_id)
        client = mlflow.get_conn()
        commit = hook.resolve_commit("main")
        lineage = metadata_from_context(context)
        with tempfile.TemporaryDirectory() as folder:
            try:
                report = build_day_report(client, hook.repository(), usecase, day, commit, Path(folder))
            except MonitoringSkip as skip:
                self.skip(str(skip))
            except ChampionError as error:
                raise InputError(str(error)) from None
            run, replaced = record_day(client, usecase, day, report, lineage)
            if replaced:
                self.log.info("replaced this day's earlier MLflow run(s) %s", replaced)
            prefix = usecase.monitoring_prefix(day)
            branch = branch_name(f"monitoring-{usecase.name}-{day.isoformat()}", context["dag_run"].run_id)
            hook.recreate_branch(branch)
            hook.delete_prefix(branch, f"{prefix}/")  # a re-run replaces the day's reports, nothing stale stays
            files = hook.upload_folder(branch, Path(folder), prefix)
        summary = report.summary
        metadata = {**lineage, MonitoringKey.DAY: day.isoformat(), MonitoringKey.VERDICT: report.verdict,
                    MonitoringKey.MODEL_NAME: summary["champion"]["model_name"],
                    MonitoringKey.MODEL_VERSION: summary["champion"]["version"],
                    MonitoringKey.REFERENCE_COMMIT: summary["reference"]["commit"],
                    MonitoringKey.CURRENT_COMMIT: commit,
                    MonitoringKey.DRIFT_SHARE: f"{summary['drift']['drift_share']:.4f}",
                    MonitoringKey.DRIFTED_COLUMNS: ",".join(summary["drift"]["drifted_columns"]),
                    MonitoringKey.REPORTS_PATH: prefix, "mlflow_run_id": run.run_id}
        commit_id = hook.commit(branch, f"monitoring {usecase.name} {day}: {report.verdict}", metadata)
        merged = hook.merge(branch, "main", f"monitoring {usecase.name} {day}", {**metadata,
                                                                                "source_commit": commit_id})
        hook.delete_branch(branch)
        client.set_tag(run.run_id, "lakefs_reports_commit", merged)
        urls = {"report_url": run.artifact_url(mlflow.ui_url, "reports/drift.html"),
                "trend_url": run.artifact_url(mlflow.ui_url, f"reports/{TREND}"),
                "lakefs_url": hook.folder_url(merged, f"{prefix}/"), "mlflow_run_url": run.run_url(mlflow.ui_url)}
        push_link(context, DriftReportLink, urls["report_url"])
        push_link(context, TrendPlotLink, urls["trend_url"])
        push_link(context, MlflowRunLink, urls["mlflow_run_url"])
        push_link(context, LakeFSLink, urls["lakefs_url"])
        self.log.info("%s %s: %s (drift share %.2f, drifted %s; %s rows vs %s reference rows; %s s); %d files at "
                      "lakeFS %s@%s:%s; MLflow run %s", usecase.name, day, report.verdict,
                      summary["drift"]["drift_share"], summary["drift"]["drifted_columns"],
                      summary["current"]["rows"], summary["reference"]["sampled"], summary["seconds"]["total"],
                      files, usecase.lakefs_repository, merged, prefix, run.run_id)
        for reason in summary["reasons"]:
            self.log.warning("beyond threshold: %s", reason)
        return {"day": day.isoformat(), "verdict": report.verdict, "reasons": summary["reasons"],
                "drift_share": summary["drift"]["drift_share"], "drifted_columns": summary["drift"]["drifted_columns"],
                "prediction": summary["drift"]["prediction"], "performance": summary["performance"],
                "champion": summary["champion"], "current": summary["current"], "mlflow_run_id": run.run_id,
                "lakefs_commit": merged, "reports_path": prefix, "seconds": summary["seconds"],
                "peak_rss_mb": summary["peak_rss_mb"], RunKey.RUN_ID: context["dag_run"].run_id, **urls}


class DriftAlertOperator(UseCaseOperator):
    """Alert (email + webhook, flood-controlled) when the day went beyond its thresholds; skipped otherwise
    and in backfill runs (a history replay alerts nobody: its findings are in the reports and the trend)."""

    template_fields: Sequence[str] = ("monitored",)

    def __init__(self, *, monitored: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.monitored = monitored

    def execute(self, context: Any) -> list[str]:
        from mlops.notifications.drift import notify_drift

        result = self.monitored
        if result["verdict"] != "drift":
            self.skip(f"{result['day']}: no drift beyond the thresholds (drift share {result['drift_share']:.2f})")
        if context["dag_run"].run_type == "backfill":
            self.skip(f"{result['day']}: drift in a backfill run is reported, not alerted: {result['reasons']}")
        champion = result["champion"]
        delivered = notify_drift(context, day=result["day"], usecase=self.usecase,
                                 model=f"{champion['model_name']} v{champion['version']}", reasons=result["reasons"],
                                 drifted_columns=result["drifted_columns"], drift_share=result["drift_share"],
                                 report_url=result["report_url"], trend_url=result["trend_url"],
                                 lakefs_url=result["lakefs_url"])
        self.log.info("drift alert for %s delivered by %s", result["day"], delivered or "no channel")
        return delivered


class RequestRetrainingOperator(UseCaseOperator):
    """Emit the ``drift_<name>`` Asset event (``train_<name>`` listens) when the guard rails allow it;
    otherwise skip, saying which rail stopped it."""

    template_fields: Sequence[str] = ("monitored", "retrain_in_backfill")

    def __init__(self, *, monitored: Any, retrain_in_backfill: Any = False,
                 mlflow_conn_id: str = MlflowHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.monitored, self.retrain_in_backfill, self.mlflow_conn_id = monitored, retrain_in_backfill, mlflow_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import AssetExtra
        from include.monitoring.guards import RetrainingContext, retraining_refusal
        from include.monitoring.service import labelled_rows_after
        from include.monitoring.tracking import mark_retraining_requested, retraining_requests

        usecase = self.load_usecase()
        guard = usecase.require_monitoring().retraining
        result = self.monitored
        day = date.fromisoformat(result["day"])
        champion_end = date.fromisoformat(result["champion"]["window_end"])
        client = MlflowHook(self.mlflow_conn_id).get_conn()
        from_backfill = context["dag_run"].run_type == "backfill"
        allowed = as_bool(self.retrain_in_backfill)
        quick = RetrainingContext(day, tuple(result["reasons"]), from_backfill, allowed, (), champion_end, 1 << 62)
        refusal = retraining_refusal(quick, guard)  # cheap rails first: no data read for a normal day
        if refusal is None:
            earlier = tuple(retraining_requests(client, usecase, day, guard.cooldown_days))
            labelled = labelled_rows_after(self.lakefs(usecase).repository(), result["current"]["commit"], usecase,
                                           champion_end, day) if guard.min_new_labelled_rows else 0
            refusal = retraining_refusal(RetrainingContext(day, tuple(result["reasons"]), from_backfill, allowed,
                                                           earlier, champion_end, labelled), guard)
        if refusal:
            self.skip(f"no retraining for {day}: {refusal}")
        mark_retraining_requested(client, result["mlflow_run_id"])
        extra = {AssetExtra.DAY: result["day"], AssetExtra.REASONS: result["reasons"],
                 AssetExtra.REPORT_URL: result["report_url"], AssetExtra.MODEL_NAME: result["champion"]["model_name"],
                 AssetExtra.MODEL_VERSION: result["champion"]["version"], AssetExtra.RUN_TYPE:
                     context["dag_run"].run_type, AssetExtra.ALLOW_BACKFILL: from_backfill and allowed,
                 AssetExtra.COMMIT_ID: result["current"]["commit"]}
        for asset in self.outlets:
            context["outlet_events"][asset].extra = extra
        self.log.info("retraining requested for drift on %s: %s", day, result["reasons"])
        return extra

"""The monitoring operators' branches run in-process: skips with their reasons (no champion, too small,
no drift, backfill, guard rails), the report committed to lakeFS under the day's folder with the run's
metadata, and the drift Asset event's extra."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from include.common.metadata import AssetExtra
from include.common.usecase import load_usecase
from include.monitoring.service import DayReport, MonitoringSkip
from include.monitoring.tracking import MonitoringRun
from mlops.assets import drift_asset
from mlops.operators.base import InputError
from mlops.operators.monitoring import (
    DriftAlertOperator,
    MonitorDayOperator,
    RequestRetrainingOperator,
    monitored_day,
)
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS, FakeMlflowHook, stub_context

USECASE = load_usecase("flights")


@pytest.fixture
def mlflow(monkeypatch: pytest.MonkeyPatch) -> FakeMlflowHook:
    fake = FakeMlflowHook()
    monkeypatch.setattr("mlops.operators.monitoring.MlflowHook", lambda conn_id=None: fake)
    return fake


def result(verdict: str = "drift", day: str = "2013-02-09") -> dict[str, Any]:
    return {"day": day, "verdict": verdict, "reasons": ["data drift: 7 of 18 columns"] if verdict == "drift" else [],
            "drift_share": 0.39, "drifted_columns": ["temp"], "mlflow_run_id": "r1", "report_url": "http://r",
            "trend_url": "http://t", "lakefs_url": "http://l",
            "champion": {"model_name": "flights_delay", "version": "3", "window_end": "2013-01-31"},
            "current": {"commit": "c0ffee"}}


@pytest.mark.parametrize(("day", "message"), [
    ("1999-01-04", "parameter 'day': 1999-01-04 is outside the source's day partitions (2013-01-01 to 2013-12-31)"),
    ("2014-01-01", "parameter 'day': 2014-01-01 is outside the source's day partitions"),
    ("04/02/2013", "parameter 'day': '04/02/2013' is not an ISO date"),
])
def test_a_day_the_data_refutes_fails_at_once_naming_the_parameter(day: str, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        monitored_day(USECASE, day, "")
    assert monitored_day(USECASE, "2013-02-04", "") == date(2013, 2, 4)
    assert monitored_day(USECASE, "", "2013-02-04T05:00:00+00:00") == date(2013, 2, 4)


def test_a_day_without_a_champion_skips_and_writes_nothing(lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    def no_champion(*args: Any) -> DayReport:
        raise MonitoringSkip("no champion yet: registered model 'flights_delay' has no 'champion' alias")

    monkeypatch.setattr("include.monitoring.service.build_day_report", no_champion)
    head = lakefs.head_commit("main")
    operator = MonitorDayOperator(task_id="monitor", usecase="flights", day="2013-02-09")
    with pytest.raises(AirflowSkipException, match="no champion yet"):
        operator.execute(stub_context(task_id="monitor", dag_id="monitor_flights"))
    assert lakefs.head_commit("main") == head


def test_the_days_reports_are_merged_under_its_folder_with_the_runs_metadata(
        lakefs: FakeLakeFS, mlflow: FakeMlflowHook, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = {"verdict": "ok", "reasons": [], "champion": {"model_name": "flights_delay", "version": "3"},
               "reference": {"commit": "ref1", "sampled": 20000}, "current": {"rows": 900}, "seconds": {"total": 3.0},
               "drift": {"drift_share": 0.0, "drifted_columns": [], "prediction": None},
               "performance": {}, "peak_rss_mb": 400.0}

    def build(client: Any, repository: Any, usecase: Any, day: date, ref: str, folder: Path) -> DayReport:
        (folder / "drift.html").write_text("<html>")
        return DayReport({**summary, "current": {**summary["current"], "commit": ref}}, {}, folder)

    tagged: list[tuple[str, str, str]] = []
    mlflow.client.set_tag = lambda run_id, key, value: tagged.append((run_id, key, value))  # type: ignore[attr-defined]
    monkeypatch.setattr("include.monitoring.service.build_day_report", build)
    monkeypatch.setattr("include.monitoring.service.record_day",
                        lambda client, usecase, day, report, tags: (MonitoringRun("run9", "4"), []))
    context = stub_context(task_id="monitor", dag_id="monitor_flights", run_id="manual__m")
    out = MonitorDayOperator(task_id="monitor", usecase="flights", day="2013-02-09").execute(context)
    assert lakefs.download("main", "monitoring/flights/2013-02-09/drift.html") == b"<html>"
    meta = lakefs.commit_metadata(out["lakefs_commit"])
    assert meta["monitoring_day"] == "2013-02-09" and meta["mlflow_run_id"] == "run9"
    assert out["report_url"] == "http://mlflow.test/#/experiments/4/runs/run9/artifacts/reports/drift.html"
    assert context["ti"].xcoms["drift_report_url"] == out["report_url"]
    assert tagged == [("run9", "lakefs_reports_commit", out["lakefs_commit"])]


def test_alerts_skip_without_drift_and_in_backfills() -> None:
    operator = DriftAlertOperator(task_id="alert", usecase="flights", monitored=result("ok"))
    with pytest.raises(AirflowSkipException, match="no drift beyond the thresholds"):
        operator.execute(stub_context(task_id="alert", dag_id="monitor_flights"))
    operator = DriftAlertOperator(task_id="alert", usecase="flights", monitored=result())
    with pytest.raises(AirflowSkipException, match="drift in a backfill run is reported, not alerted"):
        operator.execute(stub_context(task_id="alert", dag_id="monitor_flights", run_type="backfill"))


def request(monitored: dict[str, Any], **kwargs: Any) -> RequestRetrainingOperator:
    return RequestRetrainingOperator(task_id="request_retraining", usecase="flights", monitored=monitored,
                                     outlets=[drift_asset(USECASE)], **kwargs)


def test_retraining_is_requested_with_the_days_extra(lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    marked: list[str] = []
    monkeypatch.setattr("include.monitoring.tracking.retraining_requests", lambda client, usecase, day, days: [])
    monkeypatch.setattr("include.monitoring.tracking.mark_retraining_requested",
                        lambda client, run_id: marked.append(run_id))
    monkeypatch.setattr("include.monitoring.service.labelled_rows_after", lambda *args: 7000)
    context = stub_context(task_id="request_retraining", dag_id="monitor_flights")
    extra = request(result()).execute(context)
    assert extra[AssetExtra.DAY] == "2013-02-09" and extra[AssetExtra.COMMIT_ID] == "c0ffee"
    assert extra[AssetExtra.ALLOW_BACKFILL] is False and marked == ["r1"]
    assert next(iter(context["outlet_events"].values())).extra == extra


@pytest.mark.parametrize(("case", "reason"), [
    ("ok", "no drift beyond the thresholds"),
    ("backfill", "backfill run: drift in a history replay requests no retraining"),
    ("cooldown", "cool-down: a drift-triggered retraining was already requested for 2013-02-05"),
    ("few_rows", "only 500 labelled rows after the champion's window"),
])
def test_each_guard_rail_skips_with_its_reason(case: str, reason: str, lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("include.monitoring.tracking.retraining_requests",
                        lambda client, usecase, day, days: [date(2013, 2, 5)] if case == "cooldown" else [])
    monkeypatch.setattr("include.monitoring.service.labelled_rows_after",
                        lambda *args: 500 if case == "few_rows" else 7000)
    context = stub_context(task_id="request_retraining", dag_id="monitor_flights",
                           run_type="backfill" if case == "backfill" else "manual")
    with pytest.raises(AirflowSkipException, match=reason):
        request(result("ok" if case == "ok" else "drift")).execute(context)


def test_a_backfill_that_asks_may_request_retraining(lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("include.monitoring.tracking.retraining_requests", lambda client, usecase, day, days: [])
    monkeypatch.setattr("include.monitoring.tracking.mark_retraining_requested", lambda c, run_id: None)
    monkeypatch.setattr("include.monitoring.service.labelled_rows_after", lambda *args: 7000)
    context = stub_context(task_id="request_retraining", dag_id="monitor_flights", run_type="backfill")
    assert request(result(), retrain_in_backfill="True").execute(context)[AssetExtra.ALLOW_BACKFILL] is True

"""The monitoring service against the real lakeFS and MLflow servers (no scheduler), on a synthetic
flights-shaped use case: no champion yet, a normal day, a shifted day, a small day widened to a
trailing window, a day too small even then, the reference read at the champion's commit and window,
one MLflow run per day (a re-run replaces it), the trend plot and the retraining bookkeeping."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from include.common.metadata import Alias, MonitoringKey
from include.common.registry import set_alias
from include.common.usecase import MonitoringConfig, UseCase
from include.etl.partitions import to_parquet_bytes
from include.monitoring.service import MonitoringSkip, build_day_report, labelled_rows_after, record_day
from include.monitoring.tracking import (
    day_number,
    mark_retraining_requested,
    retraining_requests,
    runs_of_days,
    trend_points,
)
from include.training.service import train_and_log
from include.training.tracking import DataRef
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from tests.support.training_data import FIRST_DAY, frame, settings, usecase

DAY = {n: FIRST_DAY + timedelta(days=n - 1) for n in range(1, 32)}  # DAY[1] = 2013-01-01


def synthetic_day(day: date, rows: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    part = frame(days=1, rows_per_day=rows, seed=seed)
    part["flight_date"] = day.isoformat()
    if shifted:
        part["x"] = part["x"] + 2.0
        part["origin"] = "JFK"
    return part


@pytest.fixture(scope="module")
def case() -> UseCase:
    name = f"mon_{uuid.uuid4().hex[:8]}"
    base = usecase()
    monitoring = MonitoringConfig(categorical_columns=["origin"], min_rows=200, max_window=3,
                                  performance_tolerance=0.05, reference_sample=4000, trend_days=30)
    return base.model_copy(update={"name": name, "monitoring": monitoring, "training": base.require_training()
                                   .model_copy(update={"registered_model": name.replace("_", "-")})})


@pytest.fixture(scope="module")
def lakefs(stack_connections: None, case: UseCase) -> dict[str, Any]:
    """21 days of training data (300 rows each), then day 22 normal, 23 shifted, 24 small, 30 tiny."""
    hook = LakeFSHook()
    branch = case.name.replace("_", "-")
    hook.create_branch(branch)
    training = frame(days=21, rows_per_day=300)
    for day, part in training.groupby("flight_date"):
        hook.upload(branch, case.partition_path(date.fromisoformat(str(day))), to_parquet_bytes(part))
    trained_commit = hook.commit(branch, "training days", {})
    for day, part in {DAY[22]: synthetic_day(DAY[22], 600, 22), DAY[23]: synthetic_day(DAY[23], 600, 23, True),
                      DAY[24]: synthetic_day(DAY[24], 50, 24), DAY[30]: synthetic_day(DAY[30], 40, 30)}.items():
        hook.upload(branch, case.partition_path(day), to_parquet_bytes(part))
    head = hook.commit(branch, "monitored days", {})
    yield {"hook": hook, "branch": branch, "trained_commit": trained_commit, "head": head, "training": training}
    hook.delete_branch(branch)


@pytest.fixture(scope="module")
def client(stack_connections: None):  # type: ignore[no-untyped-def]
    return MlflowHook().get_conn()


def report(client, lakefs: dict[str, Any], case: UseCase, day: date, folder: Path):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True, exist_ok=True)
    return build_day_report(client, lakefs["hook"].repository(), case, day, lakefs["head"], folder)


@pytest.fixture(scope="module")
def champion(client, lakefs: dict[str, Any], case: UseCase, tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with pytest.raises(MonitoringSkip, match=r"no champion yet: registered model 'mon-.*' has no 'champion' alias"):
        report(client, lakefs, case, DAY[22], tmp_path_factory.mktemp("none"))
    data = DataRef(lakefs["hook"].repository_id, lakefs["trained_commit"], case.dataset_prefix, "http://l", "http://l/c")
    logged = train_and_log(client, case, settings(), lakefs["training"], data, {}, "test-revision")
    set_alias(client, logged.model_name, Alias.CHAMPION, str(logged.model_version))
    return {"version": str(logged.model_version), "run_id": logged.run_id}


def test_a_normal_day_against_the_champions_window(client, lakefs: dict[str, Any], case: UseCase,  # type: ignore[no-untyped-def]
                                                   champion: dict[str, Any], tmp_path: Path) -> None:
    normal = report(client, lakefs, case, DAY[22], tmp_path)
    summary = normal.summary
    assert summary["verdict"] == "ok" and summary["reasons"] == [], summary["reasons"]
    assert summary["champion"]["version"] == champion["version"]
    assert summary["reference"] == {"repository": lakefs["hook"].repository_id, "commit": lakefs["trained_commit"],
                                    "window": ["2013-01-01", "2013-01-21"], "rows": 6300, "sampled": 4000, "seed": 0}
    assert summary["current"]["days"] == ["2013-01-22"] and summary["current"]["rows"] == 600
    assert [c["method"] for c in summary["drift"]["columns"]] == ["wasserstein", "jensenshannon", "wasserstein"]
    assert summary["performance"]["metric"] == "roc_auc" and summary["performance"]["value"] > 0.7
    assert summary["performance"]["champion"] == pytest.approx(
        client.get_run(champion["run_id"]).data.metrics["holdout.roc_auc"])
    files = {p.name for p in tmp_path.iterdir()}
    assert files == {"drift.html", "drift.json", "performance.html", "performance.json", "summary.json"}
    assert json.loads((tmp_path / "summary.json").read_text())["day"] == "2013-01-22"


def test_a_shifted_day_drifts_in_data_and_predictions(client, lakefs: dict[str, Any], case: UseCase,  # type: ignore[no-untyped-def]
                                                      champion: dict[str, Any], tmp_path: Path) -> None:
    shifted = report(client, lakefs, case, DAY[23], tmp_path).summary
    assert shifted["verdict"] == "drift"
    assert shifted["drift"]["drifted_columns"] == ["x", "origin"] and shifted["drift"]["dataset_drift"]
    assert shifted["drift"]["prediction"]["drifted"]
    assert any(reason.startswith("data drift: 2 of 3 columns") for reason in shifted["reasons"]), shifted["reasons"]


def test_small_days_widen_or_skip_with_the_reason(client, lakefs: dict[str, Any], case: UseCase,  # type: ignore[no-untyped-def]
                                                  champion: dict[str, Any], tmp_path: Path) -> None:
    widened = report(client, lakefs, case, DAY[24], tmp_path / "small").summary
    assert widened["current"]["days"] == ["2013-01-23", "2013-01-24"] and widened["current"]["widened"]
    assert widened["current"]["rows"] == 650
    with pytest.raises(MonitoringSkip, match=r"40 rows in the 1 partition\(s\) from 2013-01-30 to 2013-01-30 "
                                             r"\(window: 2013-01-28 to 2013-01-30.*need at least 200"):
        report(client, lakefs, case, DAY[30], tmp_path / "tiny")


def test_each_day_has_one_mlflow_run_with_its_figures_and_trend(client, lakefs: dict[str, Any], case: UseCase,  # type: ignore[no-untyped-def]
                                                                champion: dict[str, Any], tmp_path: Path) -> None:
    for day in (DAY[22], DAY[23], DAY[22]):  # the second run of day 22 replaces the first
        day_report = report(client, lakefs, case, day, tmp_path / str(uuid.uuid4()))
        logged, replaced = record_day(client, case, day, day_report, {"airflow_run_id": f"manual__{day}"})
    assert len(replaced) == 1
    runs = runs_of_days(client, case, DAY[1], DAY[31])
    assert sorted(r.data.tags[MonitoringKey.DAY] for r in runs) == ["2013-01-22", "2013-01-23"]
    history = client.get_metric_history(logged.run_id, "drift.share")
    assert [(m.step, m.value) for m in history] == [(day_number(DAY[22]), 0.0)]
    verdicts = {p["day"]: p["verdict"] for p in trend_points(client, case, DAY[23], 30)}
    assert verdicts == {DAY[22]: "ok", DAY[23]: "drift"}
    artifacts = {a.path for a in client.list_artifacts(logged.run_id, "reports")}
    assert {"reports/drift.html", "reports/trend.png", "reports/summary.json"} <= artifacts

    assert retraining_requests(client, case, DAY[23], 7) == []
    drifted = next(r for r in runs if r.data.tags[MonitoringKey.DAY] == "2013-01-23")
    mark_retraining_requested(client, drifted.info.run_id)
    assert retraining_requests(client, case, DAY[25], 7) == [DAY[23]]
    assert retraining_requests(client, case, DAY[31], 7) == []


def test_labelled_rows_after_the_champions_window(lakefs: dict[str, Any], case: UseCase) -> None:
    labelled = labelled_rows_after(lakefs["hook"].repository(), lakefs["head"], case, DAY[21], DAY[24])
    expected = sum(int(synthetic_day(DAY[n], rows, n)["delayed"].notna().sum())
                   for n, rows in ((22, 600), (23, 600), (24, 50)))
    assert labelled == expected and 0 < labelled < 1250
    assert np.isclose(labelled / 1250, 0.97, atol=0.03)

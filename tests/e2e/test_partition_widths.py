"""Weekly and monthly partitions through the real scheduler: the fixture use cases
``flights_weekly`` and ``flights_monthly`` (tests/fixtures/usecases/, daily route aggregates of the
flights source) are backfilled over about 91 days each, checked against the source database, and
trained and gated. Their training DAGs are unpaused during the backfills: a history load must start
no training run (``announce`` skips in backfill runs, so no Asset event is emitted).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg2
import pytest
from mlflow import MlflowClient

from include.common.partitioning import partition_starts
from include.common.usecase import UseCase, load_usecase_file
from include.etl.windows import partition_at
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import FIXTURE_USECASES, received_alerts


@dataclass(frozen=True)
class Width:
    name: str
    first: date  # first partition start of the backfill
    last: date   # last partition start
    holdout: tuple[str, str]

    @property
    def usecase(self) -> UseCase:
        return load_usecase_file(FIXTURE_USECASES / f"{self.name}.yaml")

    @property
    def starts(self) -> list[date]:
        return partition_starts(self.first, self.last, self.usecase.partition_width)


# 13 weeks = 91 days (2013-01-07 .. 2013-04-07); 3 months = 90 days (2013-01-01 .. 2013-03-31)
WEEKLY = Width("flights_weekly", date(2013, 1, 7), date(2013, 4, 1), ("2013-03-25", "2013-04-07"))
MONTHLY = Width("flights_monthly", date(2013, 1, 1), date(2013, 3, 1), ("2013-03-01", "2013-03-31"))
WIDTHS = [WEEKLY, MONTHLY]


@pytest.fixture(scope="module")
def backfilled(airflow_api: AirflowApi) -> dict[str, dict[str, Any]]:
    """Both fixtures backfilled at once, with their training DAGs unpaused the whole time."""
    started, unpaused_at = time.monotonic(), pd.Timestamp.now(tz="UTC")
    backfills = {}
    for width in WIDTHS:
        for dag in (f"etl_{width.name}", f"train_{width.name}"):
            airflow_api.wait_for_dag(dag)
            airflow_api.unpause(dag)
        backfills[width.name] = airflow_api.backfill(f"etl_{width.name}", width.first.isoformat(),
                                                     width.last.isoformat(), max_active_runs=4,
                                                     timezone=width.usecase.source.timezone)
    for backfill_id in backfills.values():
        airflow_api.wait_for_backfill(backfill_id, timeout=1800)
    print(f"backfills of {[w.name for w in WIDTHS]} done in {time.monotonic() - started:.0f}s")
    time.sleep(10)  # time for the scheduler to turn asset events into training runs, if there were any
    return {width.name: {"runs": airflow_api.runs(f"etl_{width.name}", run_type="backfill"),
                         "unpaused_at": unpaused_at} for width in WIDTHS}


@pytest.fixture(scope="module")
def source(stack: StackConfig):  # type: ignore[no-untyped-def]
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source",
                            dbname="source")
    yield conn.cursor()
    conn.close()


def source_counts(cursor: Any, usecase: UseCase, start: date) -> tuple[int, int]:
    """Flights in the partition's window, and their distinct (local day, origin, dest), straight from the source."""
    window = partition_at(start, usecase.partition_width, usecase.source.timezone).window
    cursor.execute("SELECT count(*), count(DISTINCT (year, month, day, origin, dest)) FROM flights "
                   "WHERE time_hour >= %s AND time_hour < %s", window)
    flights, route_days = cursor.fetchone()
    return int(flights), int(route_days)


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: w.name)
def test_each_run_loads_its_interval_as_one_partition_matching_the_source(
        width: Width, backfilled: dict[str, dict[str, Any]], source: Any, stack_connections: None) -> None:
    usecase, runs = width.usecase, backfilled[width.name]["runs"]
    assert len(runs) == len(width.starts) and {r["state"] for r in runs} == {"success"}, runs
    lakefs = LakeFSHook(repository=usecase.lakefs_repository)
    prefix = f"{usecase.dataset_prefix}/"
    objects = sorted(o.path for o in lakefs.repository().ref("main").objects(prefix=prefix))
    assert objects == [f"{prefix}{usecase.partition_column}={s}/part-0.parquet" for s in width.starts]

    merges = {}
    for commit in lakefs.branch("main").log(max_amount=200):
        meta = commit.metadata or {}
        if "source_commit" in meta:
            merges.setdefault(meta["partition"], meta)
    assert sorted(merges) == [s.isoformat() for s in width.starts]
    for start in width.starts:
        meta, window = merges[start.isoformat()], partition_at(start, usecase.partition_width, usecase.source.timezone)
        assert meta["partition_width"] == usecase.partition_width
        assert (meta["partition_start"], meta["partition_end"]) == (window.window_start.isoformat(),
                                                                    window.window_end.isoformat())
        # the run's data interval is the partition's window (the timetable runs in the source's time zone)
        interval = (pd.Timestamp(meta["airflow_data_interval_start"]), pd.Timestamp(meta["airflow_data_interval_end"]))
        assert interval == (pd.Timestamp(window.window_start), pd.Timestamp(window.window_end)), meta
        frame = pd.read_parquet(io.BytesIO(lakefs.download("main", usecase.partition_path(start))))
        flights, route_days = source_counts(source, usecase, start)
        assert (int(frame["departures"].sum()), len(frame)) == (flights, route_days), start
        assert int(meta["row_count"]) == route_days and set(frame[usecase.partition_column]) == {start.isoformat()}


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: w.name)
def test_a_91_day_backfill_announces_nothing_and_starts_no_training(
        width: Width, backfilled: dict[str, dict[str, Any]], airflow_api: AirflowApi) -> None:
    runs = backfilled[width.name]["runs"]
    assert airflow_api.asset_events(f"etl_{width.name}") == []
    for run in runs:
        assert airflow_api.task_states(f"etl_{width.name}", run["dag_run_id"])["announce"] == "skipped"
    training_runs = airflow_api.runs(f"train_{width.name}")  # unpaused all along
    assert [r for r in training_runs if r["run_type"] != "scheduled"] == [], training_runs
    # nor a scheduled run for a fire time before the unpause (only a Monday 03:00 passing during the test)
    assert [r for r in training_runs if pd.Timestamp(r["logical_date"]) < backfilled[width.name]["unpaused_at"]] == []


def decision(client: MlflowClient, run_id: str) -> dict[str, Any]:
    return dict(json.loads(Path(client.download_artifacts(run_id, "gate/decision.json")).read_text()))


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: w.name)
def test_training_and_the_gate_work_on_wider_partitions(
        width: Width, backfilled: dict[str, dict[str, Any]], airflow_api: AirflowApi, stack_connections: None) -> None:
    dag, training = f"train_{width.name}", width.usecase.require_training()
    run_id = airflow_api.trigger(dag)
    state = airflow_api.wait_for_run(dag, run_id, timeout=900)
    tasks = airflow_api.task_states(dag, run_id)
    assert state == "success" and tasks == {"pin_data": "success", "train_or_evaluate": "success",
                                            "train": "success", "evaluate": "skipped",
                                            "evaluation_gate": "success"}, tasks
    pinned = airflow_api.xcom(dag, run_id, "pin_data")
    assert (pinned["window_start"], pinned["window_end"]) == (width.first.isoformat(), width.last.isoformat())
    assert pinned["days"] == len(width.starts) == training.window_days  # counted in partitions
    trained = airflow_api.xcom(dag, run_id, "train")
    client = MlflowHook().get_conn()
    run = client.get_run(trained["run_id"])
    assert run.data.params["partition_width"] == width.usecase.partition_width
    assert run.data.params["holdout_days"] == str(training.holdout_days)
    assert {"holdout.mae", "holdout.r2"} <= set(run.data.metrics)
    verdict = decision(client, trained["run_id"])
    assert verdict["verdict"] == "pass" and (verdict["data"]["first_day"], verdict["data"]["last_day"]) == \
        width.holdout, verdict["data"]
    assert client.get_model_version(training.registered_model, trained["model_version"]).tags["gate_verdict"] == "pass"


def test_a_manual_run_names_a_week_by_its_monday_and_a_wednesday_is_refused(
        airflow_api: AirflowApi, stack: StackConfig, stack_connections: None) -> None:
    dag, usecase = f"etl_{WEEKLY.name}", WEEKLY.usecase
    airflow_api.wait_for_dag(dag)
    airflow_api.unpause(dag)
    airflow_api.call("PATCH", f"/dags/train_{WEEKLY.name}", json={"is_paused": True})  # this test trains nothing
    mails_before = len(received_alerts(stack, "mail"))
    refused = airflow_api.trigger(dag, conf={"partition_date": "2013-04-10"})
    assert airflow_api.wait_for_run(dag, refused) == "failed"
    ti = airflow_api.call("GET", f"/dags/{dag}/dagRuns/{refused}/taskInstances/extract_to_branch")
    assert ti["state"] == "failed" and ti["try_number"] == 1  # an input error: never retried
    deadline = time.monotonic() + 60
    while not [m for m in received_alerts(stack, "mail")[mails_before:] if "not the start of a week" in str(m)]:
        assert time.monotonic() < deadline, "no alert naming the refused partition date"
        time.sleep(2)
    mail = next(m for m in received_alerts(stack, "mail")[mails_before:] if "not the start of a week" in str(m))
    assert "2013-04-10 (Wednesday)" in str(mail) and "2013-04-08" in str(mail)

    run_id = airflow_api.trigger(dag, conf={"partition_date": "2013-04-08"})
    assert airflow_api.wait_for_run(dag, run_id) == "success"
    events = [e for e in airflow_api.asset_events(dag) if e["source_run_id"] == run_id]
    published = airflow_api.xcom(dag, run_id, "publish")
    assert [e["extra"] for e in events] == [{
        "lakefs_repository": usecase.lakefs_repository, "commit_id": published["commit_id"],
        "partition": "2013-04-08", "path": usecase.partition_path(date(2013, 4, 8)), "rows": published["rows"],
        "run_type": "manual"}]

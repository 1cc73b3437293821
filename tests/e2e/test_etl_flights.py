"""etl_flights through the real scheduler: backfill, publish to lakeFS main, idempotent reruns."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from include.common.usecase import load_usecase
from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi

DAG = "etl_flights"
DAYS = ["2013-03-04", "2013-03-05", "2013-03-06"]
KEY = ["flight_date", "carrier", "flight", "origin", "sched_dep_time"]


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


@pytest.fixture(scope="module")
def backfill(airflow_api: AirflowApi) -> list[dict[str, object]]:
    airflow_api.wait_for_dag(DAG)
    airflow_api.unpause(DAG)
    backfill_id = airflow_api.backfill(DAG, DAYS[0], DAYS[-1], timezone=load_usecase("flights").source.timezone)
    airflow_api.wait_for_backfill(backfill_id, timeout=900)
    runs = [r for r in airflow_api.runs(DAG, run_type="backfill") if r["logical_date"][:10] in DAYS]
    return runs


def main_partition(lakefs: LakeFSHook, day: str) -> bytes:
    return lakefs.download("main", load_usecase("flights").partition_path(pd.Timestamp(day).date()))


def test_backfill_publishes_three_partitions_with_run_metadata(backfill, lakefs: LakeFSHook,  # type: ignore[no-untyped-def]
                                                                airflow_api: AirflowApi) -> None:
    assert sorted(r["logical_date"][:10] for r in backfill) == DAYS
    assert {r["state"] for r in backfill} == {"success"}, backfill
    merges = {}
    for commit in lakefs.branch("main").log(max_amount=200):
        meta = commit.metadata or {}
        if meta.get("mlops_usecase") == "flights" and "source_commit" in meta and meta["partition"] in DAYS:
            merges.setdefault(meta["partition"], (commit.id, meta))
    assert sorted(merges) == DAYS
    run_ids = {r["dag_run_id"] for r in backfill}
    for day, (_, meta) in merges.items():
        assert meta["airflow_dag_id"] == DAG and meta["airflow_run_id"] in run_ids
        assert meta["airflow_logical_date"].startswith(day)
        assert meta["airflow_data_interval_start"].startswith(day)
        assert meta["code_version"] and meta["validation_success"] == "true"
        assert int(meta["row_count"]) > 400
        payload = main_partition(lakefs, day)
        assert hashlib.sha256(payload).hexdigest() == meta["partition_sha256"]
        frame = pd.read_parquet(io.BytesIO(payload))
        assert len(frame) == int(meta["row_count"]) and set(frame["flight_date"]) == {day}
        result = lakefs.download("main", f"validation/flights/flight_date={day}/result.json")
        assert b'"success": true' in result
        docs = list(lakefs.repository().ref("main").objects(prefix=f"validation/flights/flight_date={day}/data_docs/"))
        assert docs == []  # Data Docs are rendered for failures only (use case setting validation.data_docs)
    run = backfill[0]["dag_run_id"]
    links = airflow_api.call("GET", f"/dags/{DAG}/dagRuns/{run}/taskInstances/publish/links")["extra_links"]
    assert links["lakeFS"] == lakefs.commit_url(merges[backfill[0]["logical_date"][:10]][0])
    # a history load announces nothing: `announce` skips in backfill runs, so no Asset event and no training
    assert [e for e in airflow_api.asset_events(DAG) if e["extra"].get("partition") in DAYS] == []
    for run in backfill:
        assert airflow_api.task_states(DAG, run["dag_run_id"])["announce"] == "skipped", run


def test_rerunning_a_day_gives_an_identical_partition(backfill, lakefs: LakeFSHook,  # type: ignore[no-untyped-def]
                                                      airflow_api: AirflowApi) -> None:
    before = main_partition(lakefs, DAYS[1])
    run_id = airflow_api.trigger(DAG, conf={"partition_date": DAYS[1]})
    assert airflow_api.wait_for_run(DAG, run_id, timeout=600) == "success"
    after = main_partition(lakefs, DAYS[1])
    assert hashlib.sha256(after).hexdigest() == hashlib.sha256(before).hexdigest()
    frame = pd.read_parquet(io.BytesIO(after))
    assert not frame.duplicated(KEY).any()
    published = airflow_api.xcom(DAG, run_id, "publish")
    events = [e for e in airflow_api.asset_events(DAG) if e["source_run_id"] == run_id]  # a manual run announces
    assert [(e["extra"]["partition"], e["extra"]["commit_id"], e["extra"]["run_type"]) for e in events] == [
        (DAYS[1], published["commit_id"], "manual")]


def test_two_concurrent_runs_of_one_day_leave_one_consistent_partition(lakefs: LakeFSHook,
                                                                       airflow_api: AirflowApi) -> None:
    day = "2013-03-11"
    airflow_api.wait_for_dag(DAG)
    airflow_api.unpause(DAG)
    run_ids = [airflow_api.trigger(DAG, conf={"partition_date": day}) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        states = list(pool.map(lambda run_id: airflow_api.wait_for_run(DAG, run_id, timeout=600), run_ids))
    assert states == ["success", "success"], [airflow_api.task_states(DAG, r) for r in run_ids]
    prefix = f"curated/flights/flight_date={day}/"
    objects = [o.path for o in lakefs.repository().ref("main").objects(prefix=prefix)]
    assert objects == [prefix + "part-0.parquet"]
    frame = pd.read_parquet(io.BytesIO(lakefs.download("main", objects[0])))
    assert len(frame) > 400 and not frame.duplicated(KEY).any()
    published = [c.metadata for c in lakefs.branch("main").log(max_amount=50)
                 if (c.metadata or {}).get("partition") == day and "source_commit" in c.metadata]
    assert 1 <= len(published) <= 2
    on_main = hashlib.sha256(lakefs.download("main", objects[0])).hexdigest()
    assert {m["partition_sha256"] for m in published} == {on_main}
    leftovers = [b.id for b in lakefs.repository().branches() if b.id.startswith(f"etl-flights-{day}")]
    assert leftovers == []

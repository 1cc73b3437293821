"""Data rollback on the real stack: a day published by mistake is rolled back with
``make rollback-data`` (which runs ``rollback_data_flights`` through the scheduler); ``main`` gets the
earlier content as a new commit with who and why in its metadata, history is kept, and the curated
Asset event starts a training run that pins the rolled-back commit.
"""

from __future__ import annotations

import re
import subprocess
import time
from datetime import date
from typing import Any

import pytest

from include.common.datasets import partition_days
from include.common.usecase import load_usecase
from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi
from tests.conftest import REPO_ROOT, StackController
from tests.support.flights_history import ETL_DAG, TRAIN_DAG, ensure_flights_history, pause_deployments

ROLLBACK_DAG = "rollback_data_flights"
BAD_DAY = "2013-03-20"  # no other test publishes it
REASON = f"{BAD_DAY} was published by mistake (ticket DATA-42)"


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


@pytest.fixture(scope="module")
def rolled_back(stack_controller: StackController, airflow_api: AirflowApi, lakefs: LakeFSHook) -> dict[str, Any]:
    ensure_flights_history(airflow_api, lakefs)
    pause_deployments(airflow_api)  # the training this test starts deploys nothing
    airflow_api.call("PATCH", f"/dags/{TRAIN_DAG}", json={"is_paused": True})  # the mistake trains nothing
    good = lakefs.head_commit("main")
    etl_run = airflow_api.trigger(ETL_DAG, {"partition_date": BAD_DAY})
    assert airflow_api.wait_for_run(ETL_DAG, etl_run, timeout=600) == "success"
    bad = lakefs.head_commit("main")
    assert date.fromisoformat(BAD_DAY) in partition_days(lakefs.repository(), "main", load_usecase("flights"))

    airflow_api.unpause(TRAIN_DAG)
    trainings_before = {run["dag_run_id"] for run in airflow_api.runs(TRAIN_DAG)}
    started = time.monotonic()
    command = ["make", "-s", "rollback-data", "USECASE=flights", f"TO={good}", f"REASON={REASON}"]
    result = subprocess.run(command, cwd=REPO_ROOT, env=stack_controller.env, capture_output=True, text=True,
                            timeout=900, check=False)
    seconds = time.monotonic() - started
    print(f"make rollback-data took {seconds:.1f} s:\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, result.stdout + result.stderr
    run_id = re.search(rf"triggered {ROLLBACK_DAG} run (\S+);", result.stdout)
    assert run_id, result.stdout
    return {"good": good, "bad": bad, "head": lakefs.head_commit("main"), "output": result.stdout,
            "run_id": run_id.group(1), "trainings_before": trainings_before}


def test_main_gets_the_earlier_content_as_a_new_commit_with_who_and_why(rolled_back: dict[str, Any],
                                                                        lakefs: LakeFSHook) -> None:
    good, bad, head = rolled_back["good"], rolled_back["bad"], rolled_back["head"]
    assert head not in (good, bad)
    assert lakefs.diff(good, head) == []  # the same content as the chosen commit
    assert lakefs.in_history(bad) and lakefs.in_history(good)  # history kept: the mistake can be restored
    assert date.fromisoformat(BAD_DAY) not in partition_days(lakefs.repository(), "main", load_usecase("flights"))
    assert lakefs.diff(bad, head) != []
    metadata = lakefs.commit_metadata(head)
    assert {key: metadata.get(key) for key in ("rollback_to", "rollback_from", "rollback_reason",
                                               "rollback_requested_by", "airflow_dag_id", "mlops_usecase")} == {
        "rollback_to": good, "rollback_from": bad, "rollback_reason": REASON, "rollback_requested_by": "admin",
        "airflow_dag_id": ROLLBACK_DAG, "mlops_usecase": "flights"}
    assert metadata["airflow_run_id"] == rolled_back["run_id"]
    assert int(metadata["rollback_deleted"]) >= 2 and metadata["rollback_restored"] == "0"  # partition + report
    assert head in rolled_back["output"] and "requested by admin" in rolled_back["output"]


def test_the_curated_asset_event_carries_the_rollback_commit(rolled_back: dict[str, Any],
                                                             airflow_api: AirflowApi) -> None:
    events = airflow_api.asset_events(ROLLBACK_DAG)
    assert [event["extra"]["commit_id"] for event in events] == [rolled_back["head"]]
    assert events[0]["extra"]["rollback_to"] == rolled_back["good"]


def test_the_next_training_pins_the_rolled_back_commit(rolled_back: dict[str, Any], airflow_api: AirflowApi) -> None:
    deadline = time.monotonic() + 120
    while True:
        new = [run for run in airflow_api.runs(TRAIN_DAG) if run["dag_run_id"] not in rolled_back["trainings_before"]]
        if new or time.monotonic() > deadline:
            break
        time.sleep(3)
    assert len(new) == 1, f"expected one asset-triggered training run, got {new}"
    run_id = new[0]["dag_run_id"]
    assert new[0]["run_type"] == "asset_triggered"
    assert airflow_api.wait_for_run(TRAIN_DAG, run_id, timeout=900) == "success", airflow_api.task_states(
        TRAIN_DAG, run_id)
    pinned = airflow_api.xcom(TRAIN_DAG, run_id, "pin_data")
    assert pinned["commit_id"] == rolled_back["head"]
    assert pinned["window_end"] < BAD_DAY

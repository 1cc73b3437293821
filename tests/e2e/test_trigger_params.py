"""Bad parameters through the entry points users have: the REST API (the trigger form sends the same
body), for the DAG kinds that read data (etl_*, train_*, rollback_data_*, monitor_*), on the real test stack
(every DAG's Param schema, deploy_* and rollback_* included, is checked offline by tests/dags).

Malformed values (bad dates, a window larger than the data, a JSON hyperparameter that is not an
object, SQL-looking strings, out-of-range seeds, unknown families) are refused by the DAG's Param
schema: ``400`` naming the parameter, and no run is created. Values only the data can judge (a date
outside the source's range, a commit or model version that does not exist, hyperparameters the
estimator refuses) fail the run at the first task that reads them, on the first try (no retry),
with a message and an alert naming the parameter, and nothing written: no lakeFS branch, no MLflow
run, no model version, ``main`` unchanged. All runs are triggered at once and checked together.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from mlflow import MlflowClient

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import received_alerts
from tests.support.flights_history import ensure_flights_history

ETL, TRAIN, ROLLBACK, MONITOR = "etl_flights", "train_flights", "rollback_data_flights", "monitor_flights"
MODEL = "flights_delay"
DAGS = (ETL, TRAIN, ROLLBACK, MONITOR)
UNKNOWN_COMMIT = "0" * 64
SQL = "main'; DROP TABLE dag_run;--"

REFUSED = [  # (dag, conf, the parameter the 400 names)
    (ETL, {"partition_date": "2013-02-30"}, "partition_date"),
    (ETL, {"partition_date": "03/04/2013"}, "partition_date"),
    (ETL, {"partition_date": "2013-03-04' OR '1'='1"}, "partition_date"),
    (TRAIN, {"window_days": 10**9}, "window_days"),
    (TRAIN, {"window_days": "56"}, "window_days"),
    (TRAIN, {"window_end": "last monday"}, "window_end"),
    (TRAIN, {"hyperparameters": "[1, 2]"}, "hyperparameters"),
    (TRAIN, {"hyperparameters": [1, 2]}, "hyperparameters"),
    (TRAIN, {"data_commit": SQL}, "data_commit"),
    (TRAIN, {"model_family": "xgboost"}, "model_family"),
    (TRAIN, {"seed": -1}, "seed"),
    (TRAIN, {"evaluate_model_version": "1; DELETE FROM registered_models"}, "evaluate_model_version"),
    (ROLLBACK, {"to_commit": SQL, "reason": "bad parameter test"}, "to_commit"),
    (ROLLBACK, {"to_commit": "main~1"}, "reason"),
    (MONITOR, {"day": "2013-02-30"}, "day"),
    (MONITOR, {"day": "2013-02-04' OR '1'='1"}, "day"),
    (MONITOR, {"retrain_in_backfill": "sometimes"}, "retrain_in_backfill"),
]


@dataclass(frozen=True)
class Case:
    name: str
    dag_id: str
    conf: dict[str, Any]
    failed_task: str
    message: str


FAILING = [
    Case("partition_outside_the_data", ETL, {"partition_date": "1999-01-04"}, "extract_to_branch",
         "parameter 'partition_date': 1999-01-04 is outside the source's day partitions (2013-01-01 to 2013-12-31)"),
    Case("window_end_outside_the_data", TRAIN, {"window_end": "2099-01-01"}, "pin_data",
         "parameter 'window_end': 2099-01-01 is outside the source's days (2013-01-01 to 2013-12-31)"),
    Case("unknown_data_commit", TRAIN, {"data_commit": UNKNOWN_COMMIT}, "pin_data",
         f"lakeFS has no reference '{UNKNOWN_COMMIT}' in repository 'flights' (check the data_commit parameter"),
    Case("hyperparameters_the_model_refuses", TRAIN, {"hyperparameters": {"max_iter": "many"}}, "train",
         "parameter 'hyperparameters': hyperparameters {"),
    Case("unknown_model_version", TRAIN, {"evaluate_only": True, "evaluate_model_version": "9999"}, "evaluate",
         "parameter 'evaluate_model_version': flights_delay has no version '9999'"),
    Case("unknown_rollback_target", ROLLBACK, {"to_commit": UNKNOWN_COMMIT, "reason": "bad parameter test"},
         "rollback", f"parameter 'to_commit': lakeFS repository 'flights' has no commit '{UNKNOWN_COMMIT}'"),
    Case("rollback_to_main_itself", ROLLBACK, {"to_commit": "main", "reason": "bad parameter test"}, "rollback",
         "already has the content of"),
    Case("monitored_day_outside_the_data", MONITOR, {"day": "1999-01-04"}, "wait_for_partition",
         "parameter 'day': 1999-01-04 is outside the source's day partitions (2013-01-01 to 2013-12-31)"),
]


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


def versions(client: MlflowClient) -> list[str]:
    return sorted(v.version for v in client.search_model_versions(f"name = '{MODEL}'"))


def branches(hook: LakeFSHook) -> set[str]:
    return {b.id for b in hook.repository().branches()}


@pytest.fixture(scope="module")
def outcomes(airflow_api: AirflowApi, lakefs: LakeFSHook,
             mlflow_client: MlflowClient) -> Iterator[dict[str, Any]]:
    """Trigger every failing case at once (the refused ones first), wait; return what to check."""
    ensure_flights_history(airflow_api, lakefs)
    for dag_id in DAGS:
        airflow_api.wait_for_dag(dag_id)
        airflow_api.unpause(dag_id)
    before = {"main": lakefs.head_commit("main"), "branches": branches(lakefs), "versions": versions(mlflow_client),
              "runs": {dag_id: len(airflow_api.runs(dag_id)) for dag_id in DAGS}}
    refused = []
    for dag_id, conf, name in REFUSED:
        response = airflow_api.session.post(f"{airflow_api.base_url}/api/v2/dags/{dag_id}/dagRuns", timeout=30,
                                            json={"logical_date": None, "conf": conf})
        refused.append((dag_id, conf, name, response.status_code, response.text))
    runs_after_refusals = {dag_id: len(airflow_api.runs(dag_id)) for dag_id in DAGS}
    runs = {case.name: airflow_api.trigger(case.dag_id, conf=case.conf) for case in FAILING}
    states = {case.name: airflow_api.wait_for_run(case.dag_id, runs[case.name], timeout=600) for case in FAILING}
    yield {"before": before, "refused": refused, "runs_after_refusals": runs_after_refusals, "runs": runs,
           "states": states}
    airflow_api.call("PATCH", f"/dags/{MONITOR}", json={"is_paused": True})  # as test_monitoring_flights left it


def test_malformed_parameters_are_refused_at_trigger_naming_the_parameter(outcomes: dict[str, Any]) -> None:
    problems = [f"{dag_id} {conf}: {status} {text[:300]}" for dag_id, conf, name, status, text in outcomes["refused"]
                if status != 400 or f"param {name}" not in text]
    assert problems == []
    assert outcomes["runs_after_refusals"] == outcomes["before"]["runs"], "a refused trigger created a run"


@pytest.mark.parametrize("case", FAILING, ids=lambda case: case.name)
def test_parameters_the_data_refutes_fail_at_once_without_retry_or_side_effect(
        case: Case, outcomes: dict[str, Any], airflow_api: AirflowApi, lakefs: LakeFSHook,
        mlflow_client: MlflowClient, stack: StackConfig) -> None:
    run_id = outcomes["runs"][case.name]
    assert outcomes["states"][case.name] == "failed"
    states = airflow_api.task_states(case.dag_id, run_id)
    assert states[case.failed_task] == "failed", states
    task = airflow_api.call("GET", f"/dags/{case.dag_id}/dagRuns/{run_id}/taskInstances/{case.failed_task}")
    assert task["try_number"] == 1, f"{case.failed_task} was retried: {task['try_number']} tries"
    upstream_ok = [t for t, s in states.items() if s == "success"]
    assert set(upstream_ok) <= {"pin_data", "train_or_evaluate"}, states  # nothing after the failure ran

    mails = [m for m in received_alerts(stack, "mail") if run_id in str(m["body"])]
    assert mails, f"no email alert for {run_id}"
    assert case.message in html.unescape(str(mails[-1]["body"])), html.unescape(str(mails[-1]["body"]))[:3000]

    # no side effect: main, branches, MLflow runs and model versions as before
    before = outcomes["before"]
    assert lakefs.head_commit("main") == before["main"]
    assert branches(lakefs) == before["branches"]
    experiments = [e.experiment_id for e in mlflow_client.search_experiments()]
    assert mlflow_client.search_runs(experiments, f"tags.airflow_run_id = '{run_id}'") == []
    assert versions(mlflow_client) == before["versions"]

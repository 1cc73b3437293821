"""train_flights through the real scheduler, on curated data in lakeFS, tracked in the real MLflow.

One module: a few weeks of curated flights, then trainings in order: the first model (no
champion yet), a shuffled-label challenger against a champion, a better challenger against a
weak champion, an evaluate-only run, reproduction from a run id, and data-aware triggering.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import REPO_ROOT, received_alerts

DAG, ETL_DAG, MODEL = "train_flights", "etl_flights", "flights_delay"
TIMEZONE = "America/New_York"  # etl_flights' timetable runs in its source's time zone
HISTORY = ("2013-02-11", "2013-03-03")  # 21 days (the ETL tests add 03-04 to 03-06)
CLASSIFICATION_METRICS = {"roc_auc", "pr_auc", "f1", "log_loss", "brier"}
PLOTS = {"roc_curve.png", "pr_curve.png", "confusion_matrix.png", "calibration.png", "feature_importance.png"}


TRAINED = {"pin_data": "success", "train_or_evaluate": "success", "train": "success", "evaluate": "skipped"}


@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


@pytest.fixture(scope="module")
def history(airflow_api: AirflowApi) -> None:
    """Curated flights on lakeFS main, loaded by a backfill while train_flights is still paused."""
    airflow_api.wait_for_dag(DAG)
    airflow_api.wait_for_dag(ETL_DAG)
    airflow_api.unpause(ETL_DAG)
    airflow_api.wait_for_backfill(airflow_api.backfill(ETL_DAG, *HISTORY, timezone=TIMEZONE), timeout=1200)
    airflow_api.unpause(DAG)


def train(api: AirflowApi, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    run_id = api.trigger(DAG, conf or {})
    state = api.wait_for_run(DAG, run_id, timeout=900)
    tasks = api.task_states(DAG, run_id)
    result = {"run_id": run_id, "state": state, "tasks": tasks, "pinned": api.xcom(DAG, run_id, "pin_data")}
    if tasks.get("train") == "success":
        result["trained"] = api.xcom(DAG, run_id, "train")
    return result


def extra_links(api: AirflowApi, run_id: str, task_id: str) -> dict[str, str]:
    return dict(api.call("GET", f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/links")["extra_links"])


def aliases(client: MlflowClient) -> dict[str, str]:
    return dict(client.get_registered_model(MODEL).aliases)


def decision(client: MlflowClient, run_id: str) -> dict[str, Any]:
    return dict(json.loads(Path(client.download_artifacts(run_id, "gate/decision.json")).read_text()))


def artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


@pytest.fixture(scope="module")
def first(history: None, airflow_api: AirflowApi) -> dict[str, Any]:
    return train(airflow_api)


def test_first_model_is_tracked_registered_and_gated_by_thresholds(
        first: dict[str, Any], mlflow_client: MlflowClient, airflow_api: AirflowApi,
        stack_connections: None) -> None:
    assert first["state"] == "success" and first["tasks"] == {**TRAINED, "evaluation_gate": "success"}, first
    pinned, trained = first["pinned"], first["trained"]
    assert pinned["commit_id"] == LakeFSHook(repository="flights").head_commit("main")
    assert pinned["days"] >= 21 and pinned["window_start"] <= HISTORY[0]

    run = mlflow_client.get_run(trained["run_id"])
    params, metrics, tags = run.data.params, run.data.metrics, run.data.tags
    assert params["family"] == "hist_gradient_boosting" and params["seed"] == "42"
    assert params["model.max_iter"] == "200" and params["lakefs_commit"] == pinned["commit_id"]
    assert {f"holdout.{m}" for m in CLASSIFICATION_METRICS} <= set(metrics)
    assert 0.5 < metrics["holdout.roc_auc"] < 1
    for slice_column in ("origin", "carrier"):
        assert any(key.startswith(f"holdout.slice.{slice_column}.") for key in metrics), slice_column
    assert metrics["holdout.slice.origin.JFK.rows"] > 0
    assert tags["lakefs_repository"] == "flights" and tags["lakefs_commit"] == pinned["commit_id"]
    assert tags["airflow_dag_id"] == DAG and tags["airflow_run_id"] == first["run_id"]
    assert tags["code_version"] and tags["mlflow.source.git.commit"] == tags["code_version"]

    inputs = {i.tags[0].value: json.loads(i.dataset.source) for i in run.inputs.dataset_inputs}
    assert set(inputs) == {"training", "holdout"}
    assert inputs["training"]["commit_id"] == pinned["commit_id"]
    assert inputs["training"]["uri"] == f"lakefs://flights/{pinned['commit_id']}/curated/flights/"

    stored = artifacts(mlflow_client, trained["run_id"])
    assert {f"plots/{p}" for p in PLOTS} <= stored and {"model_card.md", "run_settings.json"} <= stored
    card = mlflow_client.download_artifacts(trained["run_id"], "model_card.md")
    text = Path(card).read_text()
    assert pinned["commit_id"] in text and "make reproduce RUN_ID=" in text and "origin=JFK" in text

    version = mlflow_client.get_model_version(MODEL, trained["model_version"])
    assert version.run_id == trained["run_id"] and version.tags["lakefs_commit"] == pinned["commit_id"]
    assert version.tags["gate_verdict"] == "pass"
    import mlflow.artifacts
    from mlflow.models import Model

    local = mlflow.artifacts.download_artifacts(
        artifact_uri=mlflow_client.get_model_version_download_uri(MODEL, trained["model_version"]),
        tracking_uri=mlflow_client.tracking_uri)
    info = Model.load(local)
    assert info.signature is not None and info.saved_input_example_info is not None
    assert "origin" in {column.name for column in info.signature.inputs.inputs}

    verdict = decision(mlflow_client, trained["run_id"])
    assert verdict["verdict"] == "pass" and verdict["champion"] is None
    assert {check["name"] for check in verdict["checks"]} == {"min roc_auc"}
    assert aliases(mlflow_client) == {"challenger": trained["model_version"]}

    links = extra_links(airflow_api, first["run_id"], "train")
    assert links["MLflow run"].endswith(f"/runs/{trained['run_id']}")
    assert links["MLflow model version"].endswith(f"/models/{MODEL}/versions/{trained['model_version']}")


def test_shuffled_label_challenger_is_rejected_and_aliases_stay(
        first: dict[str, Any], mlflow_client: MlflowClient, airflow_api: AirflowApi, stack: StackConfig) -> None:
    mlflow_client.set_registered_model_alias(MODEL, "champion", first["trained"]["model_version"])
    before = aliases(mlflow_client)
    mails_before = len(received_alerts(stack, "mail"))

    shuffled = train(airflow_api, {"shuffle_labels": True})

    assert shuffled["state"] == "success", shuffled  # a rejection is a normal outcome
    assert shuffled["tasks"] == {**TRAINED, "evaluation_gate": "skipped"}
    trained = shuffled["trained"]
    verdict = decision(mlflow_client, trained["run_id"])
    assert verdict["verdict"] == "reject"
    assert verdict["champion"]["model_version"] == first["trained"]["model_version"]
    failed = " | ".join(verdict["reasons"])
    assert "min roc_auc" in failed and "roc_auc vs champion" in failed, failed
    assert mlflow_client.get_model_version(MODEL, trained["model_version"]).tags["gate_verdict"] == "reject"
    assert aliases(mlflow_client) == before

    mails = received_alerts(stack, "mail")[mails_before:]
    rejections = [m for m in mails if "challenger rejected" in str(m["subject"])]
    assert len(rejections) == 1, [m["subject"] for m in mails]
    body = html.unescape(str(rejections[0]["body"]))
    assert "min roc_auc" in body and trained["run_id"] in body
    links = extra_links(airflow_api, shuffled["run_id"], "evaluation_gate")
    assert links["MLflow run"].endswith(f"/runs/{trained['run_id']}")


def test_better_challenger_passes_against_a_weak_champion(
        first: dict[str, Any], mlflow_client: MlflowClient, airflow_api: AirflowApi) -> None:
    weak = train(airflow_api, {"hyperparameters": {"max_iter": 2, "max_depth": 1}})
    assert weak["state"] == "success" and "trained" in weak, weak
    mlflow_client.set_registered_model_alias(MODEL, "champion", weak["trained"]["model_version"])

    better = train(airflow_api)

    assert better["tasks"]["evaluation_gate"] == "success", better
    verdict = decision(mlflow_client, better["trained"]["run_id"])
    assert verdict["verdict"] == "pass" and verdict["reasons"] == []
    versus = next(c for c in verdict["checks"] if c["name"] == "roc_auc vs champion")
    assert verdict["challenger"]["metrics"]["roc_auc"] > verdict["champion"]["metrics"]["roc_auc"], versus
    assert any(c["name"].startswith("slice ") for c in verdict["checks"])
    assert aliases(mlflow_client) == {"champion": weak["trained"]["model_version"],
                                      "challenger": better["trained"]["model_version"]}


def test_evaluate_only_scores_the_champion_and_registers_nothing(
        first: dict[str, Any], mlflow_client: MlflowClient, airflow_api: AirflowApi) -> None:
    versions_before = len(mlflow_client.search_model_versions(f"name='{MODEL}'"))
    champion = aliases(mlflow_client)["champion"]

    evaluated = train(airflow_api, {"evaluate_only": True})

    assert evaluated["tasks"] == {"pin_data": "success", "train_or_evaluate": "success", "train": "skipped",
                                  "evaluate": "success", "evaluation_gate": "skipped"}
    result = airflow_api.xcom(DAG, evaluated["run_id"], "evaluate")
    assert result["model_version"] == champion
    run = mlflow_client.get_run(result["run_id"])
    assert run.data.tags["mlops.kind"] == "evaluation" and "holdout.roc_auc" in run.data.metrics
    assert len(mlflow_client.search_model_versions(f"name='{MODEL}'")) == versions_before


def test_reproduce_from_a_run_id_gives_identical_metrics(first: dict[str, Any], stack: StackConfig) -> None:
    env = {**os.environ, "STACK_NAME": stack.name, "STACK_HOME": str(stack.home),
           "LAKEFS_PORT": str(stack.lakefs_port), "MLFLOW_PORT": str(stack.mlflow_port)}
    result = subprocess.run(["make", "-s", "reproduce", f"RUN_ID={first['trained']['run_id']}"], cwd=REPO_ROOT,
                            env=env, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "REPRODUCED: all" in result.stdout


def test_curated_data_updates_trigger_training_but_backfills_do_not(
        first: dict[str, Any], airflow_api: AirflowApi, mlflow_client: MlflowClient) -> None:
    versions_before = len(mlflow_client.search_model_versions(f"name='{MODEL}'"))
    earlier = {r["dag_run_id"] for r in airflow_api.runs(DAG)}  # e.g. drift-triggered runs of the monitoring tests
    etl_run = airflow_api.trigger(ETL_DAG, {"partition_date": "2013-03-07"})
    assert airflow_api.wait_for_run(ETL_DAG, etl_run) == "success"
    published = airflow_api.xcom(ETL_DAG, etl_run, "publish")["commit_id"]

    deadline = time.monotonic() + 120
    while not [r for r in airflow_api.runs(DAG)
               if r["run_type"] == "asset_triggered" and r["dag_run_id"] not in earlier]:
        assert time.monotonic() < deadline, "no asset-triggered train_flights run appeared"
        time.sleep(3)
    runs = airflow_api.wait_until_idle(DAG)
    triggered = [r for r in runs if r["run_type"] == "asset_triggered" and r["dag_run_id"] not in earlier]
    assert len(triggered) == 1 and triggered[0]["state"] == "success"
    pinned = airflow_api.xcom(DAG, triggered[0]["dag_run_id"], "pin_data")
    assert pinned["commit_id"] == published and pinned["window_end"] >= "2013-03-07"
    assert len(mlflow_client.search_model_versions(f"name='{MODEL}'")) == versions_before + 1

    runs_before = {r["dag_run_id"] for r in airflow_api.runs(DAG)}
    backfill_id = airflow_api.backfill(ETL_DAG, "2013-03-08", "2013-03-10", timezone=TIMEZONE)
    airflow_api.wait_for_backfill(backfill_id, timeout=900)
    time.sleep(10)  # time for the scheduler to turn asset events into runs, if there were any
    backfilled = [r for r in airflow_api.runs(ETL_DAG, run_type="backfill") if r["logical_date"][:10] >= "2013-03-08"]
    assert len(backfilled) == 3 and {r["state"] for r in backfilled} == {"success"}, backfilled
    assert [e for e in airflow_api.asset_events(ETL_DAG)
            if e["source_run_id"] in {r["dag_run_id"] for r in backfilled}] == []
    assert {r["dag_run_id"] for r in airflow_api.wait_until_idle(DAG)} == runs_before  # no training run at all
    assert len(mlflow_client.search_model_versions(f"name='{MODEL}'")) == versions_before + 1

"""The smoke DAG runs through the real scheduler and leaves its traces in lakeFS and MLflow."""

from __future__ import annotations

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig


def test_smoke_run_commits_to_lakefs_and_logs_to_mlflow(stack: StackConfig, stack_connections: None) -> None:
    api = AirflowApi(stack.airflow_url, stack.admin_user, stack.admin_password)
    api.wait_for_dag("stack_smoke")
    api.unpause("stack_smoke")
    run_id = api.trigger("stack_smoke")
    state = api.wait_for_run("stack_smoke", run_id, timeout=300)
    assert state == "success", api.task_states("stack_smoke", run_id)

    lakefs_result = api.xcom("stack_smoke", run_id, "commit_to_lakefs")
    assert lakefs_result["repository"] == "platform-smoke"  # never the curated datasets' repositories
    repo = LakeFSHook(repository=lakefs_result["repository"]).repository()
    commit = repo.commit(lakefs_result["commit"]).get_commit()
    assert commit.metadata["airflow_run_id"] == run_id
    assert commit.metadata["airflow_dag_id"] == "stack_smoke"
    assert commit.metadata["rows"] == "5"
    main_log = [c.id for c in repo.branch("main").log(max_amount=20)]
    assert lakefs_result["merge"] in main_log
    with repo.ref(lakefs_result["merge"]).object(lakefs_result["path"]).reader(mode="r") as reader:
        assert len(reader.read().strip().splitlines()) == 6  # header + 5 rows

    mlflow_result = api.xcom("stack_smoke", run_id, "log_to_mlflow")
    run = MlflowHook().get_conn().get_run(mlflow_result["run_id"])
    assert run.data.tags["airflow_run_id"] == run_id
    assert run.data.tags["lakefs_commit"] == lakefs_result["merge"]
    assert run.data.metrics["rows"] == 5

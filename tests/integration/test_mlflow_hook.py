"""MlflowHook against the real MLflow tracking server of the test stack."""

from __future__ import annotations

import uuid

import mlflow

from mlops.hooks.mlflow import MlflowHook
from scripts.stack import StackConfig


def test_hook_logs_a_run_that_the_server_returns(stack: StackConfig, stack_connections: None) -> None:
    hook = MlflowHook()
    assert hook.activate() == stack.mlflow_uri
    assert hook.test_connection()[0]
    mlflow.set_experiment(f"hook-test-{uuid.uuid4().hex[:8]}")
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0.5)
        mlflow.log_metric("rmse", 1.25)
        mlflow.log_text("served artifact", "notes/readme.txt")
    stored = hook.get_conn().get_run(run.info.run_id)
    assert stored.data.params == {"alpha": "0.5"}
    assert stored.data.metrics == {"rmse": 1.25}
    assert mlflow.artifacts.load_text(f"runs:/{run.info.run_id}/notes/readme.txt") == "served artifact"

"""MlflowHook against the real MLflow tracking server of the test stack."""

from __future__ import annotations

import os
import uuid

from include.training.tracking import log_values, mlflow_run
from mlops.hooks.mlflow import CREDENTIAL_VARIABLES, MlflowHook
from scripts.stack import StackConfig


def test_hook_client_logs_a_run_that_the_server_returns(stack: StackConfig, stack_connections: None) -> None:
    hook = MlflowHook()
    assert hook.tracking_uri == stack.mlflow_uri
    assert hook.test_connection()[0]
    client = hook.get_conn()
    assert client is hook.get_conn(), "one client per hook"
    assert not any(os.environ.get(variable) for variable in CREDENTIAL_VARIABLES), "an open server needs none"
    with mlflow_run(client, f"hook-test-{uuid.uuid4().hex[:8]}", "run", {"purpose": "test"}) as run_id:
        log_values(client, run_id, {"alpha": "0.5"}, {"rmse": 1.25})
        client.log_text(run_id, "served artifact", "notes/readme.txt")
    stored = client.get_run(run_id)
    assert stored.info.status == "FINISHED"
    assert stored.data.params == {"alpha": "0.5"} and stored.data.metrics == {"rmse": 1.25}
    assert stored.data.tags["purpose"] == "test"
    assert [a.path for a in client.list_artifacts(run_id, "notes")] == ["notes/readme.txt"]


def test_a_run_that_raises_ends_failed(stack: StackConfig, stack_connections: None) -> None:
    client = MlflowHook().get_conn()
    run_ids = []
    try:
        with mlflow_run(client, f"hook-test-{uuid.uuid4().hex[:8]}", "crashing", {}) as run_id:
            run_ids.append(run_id)
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert client.get_run(run_ids[0]).info.status == "FAILED"

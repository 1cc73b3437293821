"""Training I/O against the real lakeFS and MLflow servers (no scheduler): partitions at a pinned
commit, the logged and registered run, its reuse by a retried task, and alias lookups."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pandas as pd

from include.etl.partitions import to_parquet_bytes
from include.training.tracking import alias_version, find_finished_run, run_settings
from mlops.hooks.lakefs import LakeFSHook
from mlops.operators.training import read_days, train_and_log
from scripts.stack import StackConfig
from tests.unit.test_training import FIRST_DAY, frame, settings, usecase


def test_partitions_are_listed_and_read_at_a_pinned_commit(stack_connections: None) -> None:
    hook = LakeFSHook()
    branch = f"train-it-{uuid.uuid4().hex[:8]}"
    moved = usecase().model_copy(update={"name": branch})  # its own dataset prefix: curated/<branch>
    hook.create_branch(branch)
    for day, part in frame(days=3, rows_per_day=10).groupby("flight_date"):
        hook.upload(branch, moved.partition_path(pd.Timestamp(day).date()), to_parquet_bytes(part))
    pinned = hook.commit(branch, "three days", {})
    hook.upload(branch, moved.partition_path(FIRST_DAY + timedelta(days=3)), to_parquet_bytes(frame(days=1)))
    hook.commit(branch, "a fourth day after the pin", {})

    days = hook.partition_days(pinned, moved.dataset_prefix, moved.partition_column)
    assert days == [FIRST_DAY + timedelta(days=d) for d in range(3)]
    read = read_days(hook, moved, pinned, days[0], days[-1])
    assert len(read) == 30 and sorted(set(read["flight_date"])) == [d.isoformat() for d in days]
    hook.delete_branch(branch)


def test_logged_run_is_registered_and_reused_by_a_retry(stack: StackConfig, stack_connections: None) -> None:
    from mlflow import MlflowClient

    from include.training.tracking import DataRef

    name = f"it-{uuid.uuid4().hex[:8]}"
    case = usecase()
    case = case.model_copy(update={"name": name.replace("-", "_"), "training": case.training.model_copy(
        update={"registered_model": name})})
    run_settings_ = settings()
    data = DataRef("flights", "c0ffee" * 10, case.dataset_prefix, stack.lakefs_endpoint, "http://127.0.0.1/x")
    tags = {"airflow_run_id": f"manual__{name}", "airflow_task_id": "train"}
    assert find_finished_run(stack.mlflow_uri, case, {**tags, "mlops.kind": "training"}) is None

    logged = train_and_log(case, run_settings_, frame(), data, tags, "test-revision", stack.mlflow_uri)

    again = find_finished_run(stack.mlflow_uri, case, {**tags, "mlops.kind": "training"})
    assert again == logged and logged.model_version == "1"
    assert run_settings(stack.mlflow_uri, logged.run_id) == run_settings_
    client = MlflowClient(stack.mlflow_uri)
    recorded = client.get_run(logged.run_id).data
    assert recorded.tags["lakefs_commit"] == data.commit_id and recorded.metrics["resources.peak_rss_mb"] > 0
    assert alias_version(stack.mlflow_uri, name, "champion") is None
    assert alias_version(stack.mlflow_uri, "no-such-model", "champion") is None
    client.set_registered_model_alias(name, "champion", "1")
    assert alias_version(stack.mlflow_uri, name, "champion") == "1"


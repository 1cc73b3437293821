"""Training I/O against the real lakeFS and MLflow servers (no scheduler): partitions at a pinned
commit, the logged and registered run, its reuse by a retried task, and alias lookups."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pandas as pd

from include.common.datasets import partition_days, read_days
from include.common.metadata import RunKind, TagKey
from include.common.registry import alias_version
from include.etl.partitions import to_parquet_bytes
from include.training.service import train_and_log
from include.training.tracking import fail_unfinished_runs, find_finished_run, mlflow_run, run_settings
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.stack import StackConfig
from tests.support.training_data import FIRST_DAY, frame, settings, usecase


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

    days = partition_days(hook.repository(), pinned, moved)
    assert days == [FIRST_DAY + timedelta(days=d) for d in range(3)]
    read = read_days(hook.repository(), pinned, moved, days[0], days[-1])
    assert len(read) == 30 and sorted(set(read["flight_date"])) == [d.isoformat() for d in days]
    hook.delete_branch(branch)


def test_logged_run_is_registered_and_reused_by_a_retry(stack: StackConfig, stack_connections: None) -> None:
    from include.training.tracking import DataRef

    name = f"it-{uuid.uuid4().hex[:8]}"
    case = usecase()
    case = case.model_copy(update={"name": name.replace("-", "_"), "training": case.require_training().model_copy(
        update={"registered_model": name})})
    run_settings_ = settings()
    data = DataRef("flights", "c0ffee" * 10, case.dataset_prefix, stack.lakefs_endpoint, "http://127.0.0.1/x")
    tags = {"airflow_run_id": f"manual__{name}", "airflow_task_id": "train"}
    client = MlflowHook().get_conn()
    assert find_finished_run(client, case, {**tags, TagKey.KIND: RunKind.TRAINING}) is None
    with mlflow_run(client, f"train_{case.name}", "an earlier try, killed", tags) as crashed:
        assert fail_unfinished_runs(client, case, tags) == [crashed]  # what the retry finds and closes

    logged = train_and_log(client, case, run_settings_, frame(), data, tags, "test-revision")

    again = find_finished_run(client, case, {**tags, TagKey.KIND: RunKind.TRAINING})
    assert again == logged and logged.model_version == "1"
    assert run_settings(client, logged.run_id) == run_settings_
    recorded = client.get_run(logged.run_id).data
    assert recorded.tags["lakefs_commit"] == data.commit_id and recorded.metrics["resources.peak_rss_mb"] > 0
    assert alias_version(client, name, "champion") is None
    assert alias_version(client, "no-such-model", "champion") is None
    client.set_registered_model_alias(name, "champion", "1")
    assert alias_version(client, name, "champion") == "1"

"""Retried WAP steps against the real lakeFS: no duplicate commits, no double publish."""

from __future__ import annotations

import uuid

import pytest

from mlops.hooks.lakefs import LakeFSHook


@pytest.fixture()
def hook(stack_connections: None) -> LakeFSHook:
    hook = LakeFSHook(repository="retries")
    hook.ensure_repository()
    return hook


def test_commit_retried_after_success_reuses_the_commit(hook: LakeFSHook) -> None:
    branch = f"etl-retry-{uuid.uuid4().hex[:8]}"
    hook.recreate_branch(branch)
    hook.upload(branch, "curated/x/day=1/part-0.parquet", b"rows")
    metadata = {"airflow_run_id": branch, "partition": "1"}
    first = hook.commit_once(branch, "partition 1", metadata)
    second = hook.commit_once(branch, "partition 1", metadata)  # the retry finds nothing left to commit
    assert first == second
    assert next(c.id for c in hook.branch(branch).log(max_amount=2)) == first


def test_publish_retried_after_the_merge_finds_it_instead_of_merging_again(hook: LakeFSHook) -> None:
    branch = f"etl-retry-{uuid.uuid4().hex[:8]}"
    hook.recreate_branch(branch)
    hook.upload(branch, f"curated/x/{branch}.parquet", b"rows")
    commit_id = hook.commit_once(branch, "partition", {"airflow_run_id": branch})
    merge_id = hook.merge(branch, "main", "publish", {"source_commit": commit_id})
    hook.delete_branch(branch)  # the first try crashed right after this
    assert hook.find_merge(commit_id) == merge_id
    assert not hook.branch_exists(branch)
    merges = [c for c in hook.branch("main").log(max_amount=50) if (c.metadata or {}).get("source_commit") == commit_id]
    assert len(merges) == 1


def test_extract_retry_restarts_its_branch_from_main(hook: LakeFSHook) -> None:
    branch = f"etl-retry-{uuid.uuid4().hex[:8]}"
    hook.recreate_branch(branch)
    hook.upload(branch, "half-written.tmp", b"partial")
    hook.commit(branch, "half of a crashed attempt", {})
    head = hook.recreate_branch(branch)  # the retried extract starts over
    assert head == hook.head_commit("main")
    assert hook.object_checksum(branch, "half-written.tmp") is None
    hook.delete_branch(branch)

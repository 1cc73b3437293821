"""LakeFSHook against the real lakeFS server of the test stack."""

from __future__ import annotations

import uuid

import pytest

from mlops.hooks.lakefs import LakeFSHook
from scripts.stack import StackConfig


@pytest.fixture()
def hook(stack: StackConfig, stack_connections: None) -> LakeFSHook:
    return LakeFSHook()


def test_connection_test_reports_the_repository(hook: LakeFSHook, stack: StackConfig) -> None:
    ok, message = hook.test_connection()
    assert ok, message
    assert stack.lakefs_repository in message


def test_branch_write_commit_merge_and_read_back(hook: LakeFSHook) -> None:
    branch = f"test-{uuid.uuid4().hex[:10]}"
    main_before = hook.head_commit("main")
    hook.create_branch(branch)
    hook.upload(branch, f"tests/{branch}.txt", b"hello lakeFS")
    commit_id = hook.commit(branch, "test commit", {"airflow_run_id": branch})
    assert hook.head_commit("main") == main_before, "main changed before the merge"
    merge_id = hook.merge(branch, "main", f"merge {branch}", {"airflow_run_id": branch})
    hook.delete_branch(branch)

    repo = hook.repository()
    assert repo.commit(commit_id).get_commit().metadata == {"airflow_run_id": branch}
    assert hook.head_commit("main") == merge_id
    with repo.branch("main").object(f"tests/{branch}.txt").reader(mode="rb") as reader:
        assert reader.read() == b"hello lakeFS"
    assert branch not in {b.id for b in repo.branches()}


def test_deleting_a_missing_branch_is_not_an_error(hook: LakeFSHook) -> None:
    hook.delete_branch(f"never-created-{uuid.uuid4().hex[:8]}")


def test_bad_credentials_are_reported_not_raised(stack: StackConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_LAKEFS_BAD", f'{{"conn_type": "lakefs", "host": "{stack.lakefs_endpoint}", '
                       '"login": "AKIAWRONGKEY", "password": "wrong", "extra": {"repository": "flights"}}')
    ok, message = LakeFSHook("lakefs_bad").test_connection()
    assert not ok and stack.lakefs_endpoint in message

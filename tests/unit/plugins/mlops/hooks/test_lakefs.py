"""LakeFSHook's retry logic on a stand-in for the lakeFS SDK's branch (no server): a retried commit
reuses the run's commit, and a publish finds the merge of its commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from include.common.metadata import CommitKey, RunKey
from mlops.hooks.lakefs import LakeFSHook

OURS = {RunKey.RUN_ID: "manual__1", RunKey.TASK_ID: "commit"}


@dataclass
class FakeBranch:
    """The parts of ``lakefs.Branch`` the hook calls: uncommitted changes, head commit, commit, log."""

    head: SimpleNamespace
    changes: list[str] = field(default_factory=list)
    history: list[SimpleNamespace] = field(default_factory=list)
    commits: list[dict[str, Any]] = field(default_factory=list)

    def uncommitted(self, max_amount: int | None = None) -> Any:
        return iter(self.changes[:max_amount])

    def get_commit(self) -> SimpleNamespace:
        return self.head

    def commit(self, message: str, metadata: dict[str, str] | None = None, allow_empty: bool = False) -> Any:
        self.commits.append({"message": message, "metadata": metadata, "allow_empty": allow_empty})
        self.head = SimpleNamespace(id=f"new{len(self.commits)}", metadata=metadata)
        self.changes = []
        return SimpleNamespace(get_commit=lambda: self.head)

    def log(self, max_amount: int | None = None) -> Any:
        return iter(self.history[:max_amount])


def hook_with(branch: FakeBranch, monkeypatch: pytest.MonkeyPatch) -> LakeFSHook:
    hook = LakeFSHook(repository="flights")
    monkeypatch.setattr(hook, "branch", lambda name: branch)
    return hook


def test_the_first_try_commits_its_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    branch = FakeBranch(head=SimpleNamespace(id="base", metadata={}), changes=["part-0.parquet"])
    assert hook_with(branch, monkeypatch).commit_once("b", "msg", OURS) == "new1"
    assert branch.commits == [{"message": "msg", "metadata": OURS, "allow_empty": False}]


def test_a_retry_finds_this_runs_commit_at_the_head_and_commits_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    branch = FakeBranch(head=SimpleNamespace(id="ours", metadata=dict(OURS)))
    assert hook_with(branch, monkeypatch).commit_once("b", "msg", OURS) == "ours"
    assert branch.commits == []


def test_without_changes_under_another_runs_head_an_empty_commit_records_this_run(
        monkeypatch: pytest.MonkeyPatch) -> None:
    branch = FakeBranch(head=SimpleNamespace(id="theirs", metadata={RunKey.RUN_ID: "scheduled__0"}))
    assert hook_with(branch, monkeypatch).commit_once("b", "msg", OURS) == "new1"
    assert branch.commits[0]["allow_empty"] is True


def test_a_branch_whose_head_has_no_metadata_is_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    branch = FakeBranch(head=SimpleNamespace(id="root", metadata=None))
    assert hook_with(branch, monkeypatch).commit_once("b", "msg", OURS) == "new1"


def test_find_merge_returns_the_merge_of_a_source_commit_within_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    history = [SimpleNamespace(id="m3", metadata={CommitKey.SOURCE_COMMIT: "c3"}),
               SimpleNamespace(id="x", metadata=None),
               SimpleNamespace(id="m1", metadata={CommitKey.SOURCE_COMMIT: "c1"})]
    hook = hook_with(FakeBranch(head=history[0], history=history), monkeypatch)
    assert hook.find_merge("c1") == "m1" and hook.find_merge("c3") == "m3"
    assert hook.find_merge("c2") is None and hook.find_merge("c1", depth=2) is None

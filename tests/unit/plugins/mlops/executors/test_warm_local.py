"""WarmLocalExecutor leans on private LocalExecutor internals: these tests fail loudly when Airflow
changes them, and prove the executor then falls back to the plain LocalExecutor with a warning."""

from __future__ import annotations

import inspect
import logging
import multiprocessing
from typing import Any

import pytest
from airflow.executors import local_executor
from airflow.executors.local_executor import LocalExecutor

from mlops.executors import warm_local
from mlops.executors.warm_local import WORKER_ATTRIBUTES, WORKER_KWARGS, WarmLocalExecutor, internals_mismatch

UPGRADE_HINT = ("Airflow changed LocalExecutor's private internals that WarmLocalExecutor overrides: "
                "update plugins/mlops/executors/warm_local.py (it falls back to the plain LocalExecutor meanwhile)")


class FakeProcess:
    """Stands in for ``multiprocessing.Process``: records what would be started."""

    started: list[FakeProcess] = []

    def __init__(self, target: Any, kwargs: dict[str, Any]) -> None:
        self.target, self.kwargs, self.pid = target, kwargs, None

    def start(self) -> None:
        self.pid = 10_000 + len(FakeProcess.started)
        FakeProcess.started.append(self)


@pytest.fixture
def fake_process(monkeypatch: pytest.MonkeyPatch) -> type[FakeProcess]:
    FakeProcess.started = []
    monkeypatch.setattr(multiprocessing, "Process", FakeProcess)
    return FakeProcess


def unstarted_executor() -> WarmLocalExecutor:
    """An executor with the attributes ``start()`` sets, without starting worker processes."""
    executor = WarmLocalExecutor(parallelism=1)
    for name in ("activity_queue", "result_queue", "_unread_messages"):
        setattr(executor, name, object())
    executor.workers = {}
    return executor


def test_airflow_private_internals_are_the_ones_the_executor_overrides() -> None:
    assert internals_mismatch() is None, UPGRADE_HINT
    assert list(inspect.signature(local_executor._run_worker).parameters) == list(WORKER_KWARGS), UPGRADE_HINT
    assert list(inspect.signature(LocalExecutor._spawn_worker).parameters) == ["self"], UPGRADE_HINT
    # LocalExecutor._spawn_worker passes the same keyword arguments from the same attributes
    source = inspect.getsource(LocalExecutor._spawn_worker)
    assert "target=_run_worker" in source, UPGRADE_HINT
    for keyword, attribute in WORKER_KWARGS.items():
        expected = "self.log.name" if keyword == "logger_name" else f"self.{attribute}"
        assert f'"{keyword}": {expected}' in source, f"{UPGRADE_HINT}: {keyword!r} is no longer {expected}"
    assert "self.workers[p.pid] = p" in source, UPGRADE_HINT


def test_a_started_local_executor_has_the_attributes_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalExecutor, "_spawn_workers_with_gc_freeze", lambda self, number: None)
    executor = LocalExecutor(parallelism=1)
    executor.start()
    try:
        assert [a for a in WORKER_ATTRIBUTES if not hasattr(executor, a)] == [], UPGRADE_HINT
        assert internals_mismatch(executor) is None
    finally:
        executor.activity_queue.close()
        executor.result_queue.close()


def test_warm_worker_gets_the_base_kwargs_and_the_preloading_target(fake_process: type[FakeProcess]) -> None:
    executor = unstarted_executor()
    executor._spawn_worker()
    (process,) = fake_process.started
    assert process.target is warm_local.run_warm_worker
    assert process.kwargs == {"logger_name": executor.log.name, "input": executor.activity_queue,
                              "output": executor.result_queue, "unread_messages": executor._unread_messages,
                              "team_conf": executor.conf}
    assert executor.workers == {process.pid: process}


def test_real_warm_worker_runs_airflow_worker_loop_and_stops_on_poison_pill(monkeypatch: pytest.MonkeyPatch) -> None:
    """A forked worker gets keyword arguments that Airflow's ``_run_worker`` accepts (no TypeError)."""
    monkeypatch.setenv("MLOPS_WORKER_PRELOAD", "")
    executor = WarmLocalExecutor(parallelism=1)
    executor.start()
    (process,) = executor.workers.values()
    executor.activity_queue.put(None)  # poison pill: the worker loop returns
    process.join(timeout=60)
    assert process.exitcode == 0
    executor.activity_queue.close()
    executor.result_queue.close()


def test_changed_run_worker_signature_falls_back_to_plain_local_executor_with_one_warning(
        fake_process: type[FakeProcess], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def _run_worker(logger_name: str, input: Any, output: Any, unread_messages: Any, team_conf: Any,
                    new_argument: int) -> None:  # what a future Airflow might take
        raise AssertionError("never called here")

    monkeypatch.setattr(local_executor, "_run_worker", _run_worker)
    executor = unstarted_executor()
    with caplog.at_level(logging.WARNING, logger=warm_local.log.name):
        executor._spawn_worker()
        executor._spawn_worker()
    assert [p.target for p in fake_process.started] == [_run_worker, _run_worker]  # LocalExecutor's own spawn
    assert len(executor.workers) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "new_argument" in warnings[0] and "falling back to the plain LocalExecutor" in warnings[0]


def test_missing_private_function_or_attribute_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    executor = unstarted_executor()
    del executor._unread_messages
    assert "_unread_messages" in (internals_mismatch(executor) or "")
    monkeypatch.delattr(local_executor, "_run_worker")
    assert "_run_worker is gone" in (internals_mismatch() or "")


def test_spawn_worker_taking_an_argument_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LocalExecutor, "_spawn_worker", lambda self, team: None)
    assert "takes arguments" in (internals_mismatch() or "")


def test_start_preloads_once_in_the_executor_before_forking_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers inherit the modules from the scheduler's process instead of each importing them."""
    events: list[str] = []
    monkeypatch.setenv("MLOPS_WORKER_PRELOAD", "json,nothing_such_module_here")
    monkeypatch.setattr(warm_local, "preload", lambda modules: events.append(f"preload {modules}") or ["json"])
    monkeypatch.setattr(LocalExecutor, "_spawn_workers_with_gc_freeze",
                        lambda self, number: events.append(f"fork {number}"))
    executor = WarmLocalExecutor(parallelism=3)
    executor.start()
    try:
        assert events == ["preload json,nothing_such_module_here", "fork 3"]
    finally:
        executor.activity_queue.close()
        executor.result_queue.close()

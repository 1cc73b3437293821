"""LocalExecutor whose workers import the heavy libraries once, before they fork tasks.

Airflow's LocalExecutor worker forks one child per task (``os.fork``, no exec, on Linux), so a
module imported by the worker is already loaded in every task it runs. Importing pandas,
pyarrow, Great Expectations and the lakeFS SDK costs several seconds per task otherwise; on a
365-day backfill of several tasks per day that is most of the wall time. MLflow and the
scikit-learn modules the training uses cost about 5 s more in each training task (``train`` and
``evaluation_gate``): the largest part of the training's scheduler overhead. Project code
(``include/``, ``plugins/``) is never preloaded, so edits still apply to the next task.

The executor imports them once in its own process (the scheduler) before ``start()`` forks its
``parallelism`` workers, which inherit them (copy-on-write pages, shared): every worker importing
them at once starved a busy 2-core machine for 85 s to 6 min after a scheduler restart (fault 5 of
``tests/faults``). Workers forked later (one replacing a dead worker) inherit them the same way.

Enable with ``AIRFLOW__CORE__EXECUTOR=mlops.executors.warm_local.WarmLocalExecutor``; choose the
modules with ``MLOPS_WORKER_PRELOAD`` (comma-separated; empty disables preloading).

This relies on private LocalExecutor internals: ``_spawn_worker`` starting a
``multiprocessing.Process`` on ``local_executor._run_worker`` with the keyword arguments of
``WORKER_KWARGS``, read from the attributes in ``WORKER_ATTRIBUTES``. ``internals_mismatch``
checks them; when they differ (another Airflow version), the executor logs a warning once and
spawns workers exactly as the plain LocalExecutor does (no preload, every task still runs).
``tests/unit/plugins/mlops/executors/test_warm_local.py`` fails loudly on such a change.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import multiprocessing
import os
import time
from typing import Any

from airflow.executors import local_executor
from airflow.executors.local_executor import LocalExecutor

DEFAULT_PRELOAD = ("pandas,pyarrow.parquet,great_expectations,lakefs,psycopg2,"
                   "airflow.providers.postgres.hooks.postgres,"
                   # training and its gate: each task otherwise imports these again (~5 s a task, make bench)
                   "mlflow,mlflow.sklearn,sklearn.ensemble,sklearn.pipeline,sklearn.compose,sklearn.metrics")
# _run_worker keyword -> the LocalExecutor attribute LocalExecutor._spawn_worker passes for it
WORKER_KWARGS = {"logger_name": "log", "input": "activity_queue", "output": "result_queue",
                 "unread_messages": "_unread_messages", "team_conf": "conf"}
WORKER_ATTRIBUTES = (*WORKER_KWARGS.values(), "workers")
log = logging.getLogger(__name__)


def internals_mismatch(executor: object | None = None) -> str | None:
    """What differs from the LocalExecutor internals this module relies on; None when all match.

    Checks ``local_executor._run_worker``'s parameters, that ``LocalExecutor._spawn_worker`` still
    takes no argument and targets ``_run_worker``, and (given a started executor) the attributes read.
    """
    run_worker = getattr(local_executor, "_run_worker", None)
    if not callable(run_worker):
        return "airflow.executors.local_executor._run_worker is gone"
    parameters = list(inspect.signature(run_worker).parameters)
    if parameters != list(WORKER_KWARGS):
        return f"local_executor._run_worker takes {parameters}, expected {list(WORKER_KWARGS)}"
    spawn = getattr(LocalExecutor, "_spawn_worker", None)
    if not callable(spawn):
        return "LocalExecutor._spawn_worker is gone"
    if list(inspect.signature(spawn).parameters) != ["self"]:
        return f"LocalExecutor._spawn_worker{inspect.signature(spawn)} takes arguments"
    if "_run_worker" not in spawn.__code__.co_names:
        return "LocalExecutor._spawn_worker no longer starts local_executor._run_worker"
    missing = [name for name in WORKER_ATTRIBUTES if executor is not None and not hasattr(executor, name)]
    if missing:
        return f"LocalExecutor has no attribute {missing} after start()"
    return None


def preload(modules: str) -> list[str]:
    """Import each named module; a module that fails is logged and skipped (tasks import it later)."""
    loaded = []
    for name in filter(None, (m.strip() for m in modules.split(","))):
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:
            log.exception("worker preload: could not import %s", name)
    return loaded


def run_warm_worker(**kwargs: Any) -> None:
    loaded = preload(os.environ.get("MLOPS_WORKER_PRELOAD", DEFAULT_PRELOAD))
    log.info("worker pid %d preloaded %s", os.getpid(), loaded)
    local_executor._run_worker(**kwargs)


class WarmLocalExecutor(LocalExecutor):
    """A LocalExecutor with preloaded workers (see the module docstring)."""

    _fallback_reason: str | None = None

    def start(self) -> None:
        if multiprocessing.get_start_method() == "fork" and not internals_mismatch():
            started = time.monotonic()
            loaded = preload(os.environ.get("MLOPS_WORKER_PRELOAD", DEFAULT_PRELOAD))
            log.info("executor pid %d preloaded %s for its workers in %.1f s", os.getpid(), loaded,
                     time.monotonic() - started)
        super().start()

    def _spawn_worker(self) -> None:
        if self._fallback_reason is None:
            self._fallback_reason = internals_mismatch(self) or ""
            if self._fallback_reason:
                log.warning("WarmLocalExecutor: %s; falling back to the plain LocalExecutor "
                            "(workers are not preloaded, tasks run as usual)", self._fallback_reason)
        if self._fallback_reason:
            super()._spawn_worker()  # type: ignore[no-untyped-call]
            return
        kwargs = {name: getattr(self, attribute) for name, attribute in WORKER_KWARGS.items()}
        kwargs["logger_name"] = self.log.name
        process = multiprocessing.Process(target=run_warm_worker, kwargs=kwargs)
        process.start()
        if process.pid is not None:
            self.workers[process.pid] = process

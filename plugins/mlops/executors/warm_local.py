"""LocalExecutor whose workers import the heavy libraries once, before they fork tasks.

Airflow's LocalExecutor worker forks one child per task (``os.fork``, no exec, on Linux), so a
module imported by the worker is already loaded in every task it runs. Importing pandas,
pyarrow, Great Expectations and the lakeFS SDK costs several seconds per task otherwise; on a
365-day backfill of four tasks per day that is most of the wall time. Project code
(``include/``, ``plugins/``) is never preloaded, so edits still apply to the next task.

Enable with ``AIRFLOW__CORE__EXECUTOR=mlops.executors.warm_local.WarmLocalExecutor``; choose the
modules with ``MLOPS_WORKER_PRELOAD`` (comma-separated; empty disables preloading).
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
from typing import Any

from airflow.executors import local_executor
from airflow.executors.local_executor import LocalExecutor

DEFAULT_PRELOAD = "pandas,pyarrow.parquet,great_expectations,lakefs,psycopg2,airflow.providers.postgres.hooks.postgres"
log = logging.getLogger(__name__)


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

    def _spawn_worker(self) -> None:
        process = multiprocessing.Process(
            target=run_warm_worker,
            kwargs={"logger_name": self.log.name, "input": self.activity_queue, "output": self.result_queue,
                    "unread_messages": self._unread_messages, "team_conf": self.conf},
        )
        process.start()
        if process.pid is not None:
            self.workers[process.pid] = process

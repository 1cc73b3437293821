"""Benchmark: ``train_<name>`` through the scheduler versus the same functions in one Python process.

Both paths read the same lakeFS commit and window, train, log and register with MLflow, and run the
gate's scoring; the in-process path runs in a fresh child process (imports included) so its wall
time and peak memory are its own. Prints the figures and where the scheduler's extra time goes.
Needs the dev stack with curated data (``make demo`` or a backfill):

    make bench-training                     # flights
    USECASE=hotels make bench-training
    .venv/bin/python benchmarks/training.py --json figures.json   # also the figures as JSON (make bench)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "plugins")]

from scripts.airflow_api import AirflowApi  # noqa: E402
from scripts.stack import StackConfig, client_connections  # noqa: E402


def in_process(usecase_name: str, commit_id: str, queue: Any) -> None:
    """The DAG's work without Airflow: read at the commit, train + log + register, gate scoring."""
    started = time.perf_counter()
    from include.common.datasets import partition_days
    from include.common.lineage import code_version
    from include.common.usecase import load_usecase
    from include.training.service import (
        PinnedData,
        gate_decision,
        peak_rss_mb,
        pin_window,
        read_window,
        run_settings_for,
        train_and_log,
    )
    from include.training.tracking import DataRef
    from mlops.hooks.lakefs import LakeFSHook
    from mlops.hooks.mlflow import MlflowHook

    imported = time.perf_counter()
    usecase = load_usecase(usecase_name)
    hook = LakeFSHook(repository=usecase.lakefs_repository)
    repository = hook.repository()
    days = pin_window(usecase, partition_days(repository, commit_id, usecase), usecase.require_training().window_days,
                      None)
    pinned = PinnedData(repository.id, commit_id, commit_id, days[0], days[-1], len(days))
    settings = run_settings_for(usecase, pinned)
    frame = read_window(repository, usecase, commit_id, settings)
    loaded = time.perf_counter()
    data = DataRef(repository.id, commit_id, usecase.dataset_prefix, hook.endpoint, hook.commit_url(commit_id))
    client = MlflowHook().get_conn()
    logged = train_and_log(client, usecase, settings, frame, data, {"benchmark": "in_process"}, code_version())
    trained = time.perf_counter()
    decision = gate_decision(client, repository, usecase, settings, logged, commit_id)
    finished = time.perf_counter()
    queue.put({"imports": imported - started, "read": loaded - imported, "train_log_register": trained - loaded,
               "gate": finished - trained, "total": finished - started, "peak_rss_mb": peak_rss_mb(),
               "rows": len(frame), "verdict": decision.verdict})


def task_seconds(api: AirflowApi, dag_id: str, run_id: str) -> dict[str, float]:
    instances = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
    return {ti["task_id"]: float(ti["duration"] or 0) for ti in instances}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    cfg = StackConfig.from_env()
    os.environ.update(client_connections(cfg))
    usecase = os.environ.get("USECASE", "flights")
    dag_id = f"train_{usecase}"
    from include.common.usecase import load_usecase
    from mlops.hooks.lakefs import LakeFSHook

    commit_id = LakeFSHook(repository=load_usecase(usecase).lakefs_repository).head_commit("main")
    print(f"Benchmark {dag_id} at lakeFS commit {commit_id[:12]} (main head)\n")

    queue: Any = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=in_process, args=(usecase, commit_id, queue))
    child.start()
    local = queue.get(timeout=1800)
    child.join()
    print("In one Python process (fresh interpreter):")
    for key in ("imports", "read", "train_log_register", "gate", "total"):
        print(f"  {key:<20} {local[key]:7.1f} s")
    print(f"  peak RSS            {local['peak_rss_mb']:7.0f} MB   "
          f"({local['rows']} rows, verdict {local['verdict']})\n")

    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    api.wait_for_dag(dag_id)
    api.unpause(dag_id)
    started = time.perf_counter()
    run_id = api.trigger(dag_id, {"data_commit": commit_id})
    state = api.wait_for_run(dag_id, run_id, timeout=1800)
    wall = time.perf_counter() - started
    run = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
    tasks = task_seconds(api, dag_id, run_id)
    queued = (datetime.fromisoformat(run["start_date"]) - datetime.fromisoformat(run["queued_at"])).total_seconds()
    trained = api.xcom(dag_id, run_id, "train")
    from mlops.hooks.mlflow import MlflowHook

    metrics = MlflowHook().get_conn().get_run(trained["run_id"]).data.metrics
    print(f"Through the scheduler ({state}):")
    print(f"  trigger to finish    {wall:7.1f} s   (run queued before start {queued:.1f} s)")
    for task, seconds in tasks.items():
        print(f"  task {task:<15} {seconds:7.1f} s")
    print(f"  in tasks             {sum(tasks.values()):7.1f} s; outside tasks (scheduling, handoffs) "
          f"{wall - sum(tasks.values()):.1f} s")
    print(f"  train task peak RSS  {metrics['resources.peak_rss_mb']:7.0f} MB (includes the warm worker's preloads)")
    print(f"  fit + evaluate       {metrics['resources.fit_evaluate_seconds']:7.1f} s\n")
    print(f"Ratio scheduler / in-process: {wall / local['total']:.2f}x (target: at most 1.1x)")
    if args.json:
        args.json.write_text(json.dumps({
            "dag_id": dag_id, "commit": commit_id, "in_process": local, "ratio": wall / local["total"],
            "scheduler": {"state": state, "wall": wall, "queued": queued, "tasks": tasks,
                          "outside_tasks": wall - sum(tasks.values()),
                          "train_peak_rss_mb": metrics["resources.peak_rss_mb"],
                          "fit_evaluate_seconds": metrics["resources.fit_evaluate_seconds"]}}, indent=2))
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())

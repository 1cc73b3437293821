"""Benchmark: a day arriving in the source until its model is staged, with no human step but approval.

On the running stack (``make up``, curated history loaded: the year backfill of ``make bench``), a
manual ``etl_<name>`` run loads ``--day`` (default: the last partition of the source); its ``announce``
event starts ``train_<name>``, whose gate emits the challenger event that starts ``deploy_<name>``
(package, infra validation, staging). The benchmark answers the production approval (``--approve``,
default, so that production then serves a champion: ``make bench``'s serving step needs one) or
rejects it. Prints the wall time of every stage from the Airflow API's task times:

    published  -> ETL run triggered to ``publish`` done
    trained    -> ``train_<name>``'s ``train`` done; gated -> its gate verdict recorded
    staged     -> ``deploy_staging`` done (the figure: target <= 5 min)
    production -> ``deploy_production`` done after the answer (for information)

A gate that rejects the challenger (e.g. a champion trained on the same data) ends the chain before
staging: reported as such, with its reasons.

    .venv/bin/python benchmarks/end_to_end.py [--usecase flights] [--day 2013-12-31] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig

TARGET_SECONDS = 300


def new_run(api: AirflowApi, dag_id: str, known: set[str], timeout: float) -> str:
    """The id of the first run of ``dag_id`` not in ``known`` (started by an Asset event), waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [r["dag_run_id"] for r in api.runs(dag_id) if r["dag_run_id"] not in known]
        if fresh:
            return str(fresh[0])
        time.sleep(2)
    raise SystemExit(f"no new {dag_id} run within {timeout:.0f} s: is it unpaused, did the event come?")


def task_end(api: AirflowApi, dag_id: str, run_id: str, task_id: str) -> datetime:
    ti = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    if ti["state"] != "success" or not ti["end_date"]:
        raise SystemExit(f"{dag_id} {run_id}: {task_id} is {ti['state']} (see its log in the Airflow UI)")
    return datetime.fromisoformat(ti["end_date"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usecase", default="flights")
    parser.add_argument("--day", default="2013-12-31", help="the partition to (re)load from the source")
    parser.add_argument("--answer", choices=("Approve", "Reject"), default="Approve")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    cfg = StackConfig.from_env()
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    etl, train, deploy = (f"{stage}_{args.usecase}" for stage in ("etl", "train", "deploy"))
    for dag_id in (etl, train, deploy):
        api.wait_for_dag(dag_id)
        api.unpause(dag_id)
    known_train = {r["dag_run_id"] for r in api.runs(train)}
    known_deploy = {r["dag_run_id"] for r in api.runs(deploy)}

    etl_run = api.trigger(etl, conf={"partition_date": args.day})
    triggered = datetime.fromisoformat(api.call("GET", f"/dags/{etl}/dagRuns/{etl_run}")["queued_at"])
    if api.wait_for_run(etl, etl_run, timeout=900) != "success":
        raise SystemExit(f"{etl} {etl_run} failed: {api.task_states(etl, etl_run)}")
    stages: dict[str, Any] = {"published": task_end(api, etl, etl_run, "publish")}
    train_run = new_run(api, train, known_train, 300)
    api.wait_for_run(train, train_run, timeout=1800)
    stages["trained"] = task_end(api, train, train_run, "train")
    trained = api.xcom(train, train_run, "train")
    gate = api.call("GET", f"/dags/{train}/dagRuns/{train_run}/taskInstances/evaluation_gate")
    stages["gated"] = datetime.fromisoformat(gate["end_date"])
    figures: dict[str, Any] = {"usecase": args.usecase, "day": args.day, "etl_run": etl_run, "train_run": train_run,
                               "model_version": trained.get("model_version"), "gate": gate["state"],
                               "target_seconds": TARGET_SECONDS}
    if gate["state"] == "success":  # a pass emits the challenger event; a rejection skips the gate
        deploy_run = new_run(api, deploy, known_deploy, 120)
        state = api.wait_for_task(deploy, deploy_run, "approve_production", {"awaiting_input"}, 1800)
        if state != "awaiting_input":
            raise SystemExit(f"{deploy} {deploy_run}: approval never asked ({api.task_states(deploy, deploy_run)})")
        stages["staged"] = task_end(api, deploy, deploy_run, "deploy_staging")
        api.answer_approval(deploy, deploy_run, "approve_production", args.answer)
        api.wait_for_run(deploy, deploy_run, timeout=900)
        if args.answer == "Approve":
            stages["production"] = task_end(api, deploy, deploy_run, "deploy_production")
        figures["deploy_run"] = deploy_run
    else:
        figures["gate"] = "rejected: no deploy run (the gate's log and the model version's tags say why)"
    seconds = {name: (moment - triggered).total_seconds() for name, moment in sorted(stages.items(),
                                                                                      key=lambda item: item[1])}
    figures["seconds"] = seconds
    figures["staged_seconds"] = seconds.get("staged")
    for name, value in seconds.items():
        print(f"  {name:<11} {value:7.1f} s after the ETL run was triggered")
    print(f"day {args.day} -> staged: " + (f"{seconds['staged']:.0f} s (target <= {TARGET_SECONDS} s)"
                                           if "staged" in seconds else f"not staged, gate {figures['gate']}"))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if "staged" in seconds else 1


if __name__ == "__main__":
    sys.exit(main())

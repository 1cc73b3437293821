"""``make demo``: run the platform's main job through the real scheduler and say where to look."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig

SMOKE_DAG = "stack_smoke"


def run_smoke(api: AirflowApi, cfg: StackConfig) -> int:
    api.wait_for_dag(SMOKE_DAG)
    api.unpause(SMOKE_DAG)
    run_id = api.trigger(SMOKE_DAG)
    print(f"Triggered {SMOKE_DAG} run {run_id}; waiting for the scheduler...")
    state = api.wait_for_run(SMOKE_DAG, run_id)
    print(f"  run state: {state}; tasks: {api.task_states(SMOKE_DAG, run_id)}")
    print(f"  Airflow: {cfg.airflow_url}/dags/{SMOKE_DAG}/runs/{run_id}")
    if state != "success":
        print(f"  see the task logs under {cfg.logs / 'airflow-tasks'}")
        return 1
    lakefs = api.xcom(SMOKE_DAG, run_id, "commit_to_lakefs")
    mlflow_run = api.xcom(SMOKE_DAG, run_id, "log_to_mlflow")
    print(f"  lakeFS: commit {lakefs['merge']} on main: "
          f"{cfg.lakefs_endpoint}/repositories/{lakefs['repository']}/commits/{lakefs['merge']}")
    print(f"  MLflow: run {mlflow_run['run_id']}: "
          f"{cfg.mlflow_uri}/#/experiments/{mlflow_run['experiment_id']}/runs/{mlflow_run['run_id']}")
    return 0


def main() -> int:
    cfg = StackConfig.from_env()
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    return run_smoke(api, cfg)


if __name__ == "__main__":
    sys.exit(main())

"""``make rollback-data USECASE=<name> TO=<commit> REASON="..."``: roll lakeFS ``main`` of a use case back to an
earlier commit, as a new commit, through the ``rollback_data_<name>`` DAG (so the rollback is a run in
Airflow with its log, its triggering user recorded on the commit, and the curated Asset event that
tells training and monitoring).

The Airflow API is the running stack's (``make up``), or ``AIRFLOW_API_URL`` / ``AIRFLOW_USERNAME`` /
``AIRFLOW_PASSWORD`` when set (another deployment).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi, AirflowApiError
from scripts.stack import StackConfig


def api_from_env() -> AirflowApi:
    cfg = StackConfig.from_env()
    return AirflowApi(os.environ.get("AIRFLOW_API_URL", cfg.airflow_url),
                      os.environ.get("AIRFLOW_USERNAME", cfg.admin_user),
                      os.environ.get("AIRFLOW_PASSWORD", cfg.admin_password))


def rollback(api: AirflowApi, usecase: str, to_commit: str, reason: str, timeout: float = 600) -> int:
    dag_id = f"rollback_data_{usecase}"
    api.wait_for_dag(dag_id, timeout=60)
    api.unpause(dag_id)  # no schedule: unpausing only lets triggered runs start
    try:
        run_id = api.trigger(dag_id, {"to_commit": to_commit, "reason": reason})
    except AirflowApiError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    print(f"triggered {dag_id} run {run_id}; waiting...")
    state = api.wait_for_run(dag_id, run_id, timeout=timeout)
    if state != "success":
        print(f"{dag_id} run {run_id}: {state}; tasks {api.task_states(dag_id, run_id)}: see the task log in "
              f"{api.base_url}/dags/{dag_id}/runs/{run_id}", file=sys.stderr)
        return 1
    result = api.xcom(dag_id, run_id, "rollback")
    print(f"main of lakeFS repository {result['lakefs_repository']} now has the content of {result['rollback_to']}"
          f" as new commit {result['commit_id']} (requested by {result['requested_by']}: {result['reason']}); the "
          f"curated_{usecase} Asset event tells training and monitoring")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("usecase")
    parser.add_argument("to_commit", help="a commit of main's history (id or reference such as main~2)")
    parser.add_argument("--reason", required=True, help="why (recorded on the rollback commit)")
    args = parser.parse_args()
    return rollback(api_from_env(), args.usecase, args.to_commit, args.reason)


if __name__ == "__main__":
    sys.exit(main())

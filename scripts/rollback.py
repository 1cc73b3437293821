"""``make rollback USECASE=<name> [TO=<version>]``: run ``rollback_<name>`` through the scheduler and
report what production serves afterwards (the DAG switches production with no failed request)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig


def main(usecase: str, to_version: str | None) -> int:
    cfg = StackConfig.from_env()
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    dag = f"rollback_{usecase}"
    api.wait_for_dag(dag)
    api.unpause(dag)
    run_id = api.trigger(dag, {"to_version": to_version})
    print(f"Rolling back {usecase} production: {cfg.airflow_url}/dags/{dag}/runs/{run_id}")
    state = api.wait_for_run(dag, run_id, timeout=600)
    if state != "success":
        print(f"  {state}: see the task log under {cfg.logs / 'airflow-tasks'} ({dag}/{run_id})")
        return 1
    result = api.xcom(dag, run_id, "rollback_production")
    print(f"  production now serves version {result['model_version']} ({result['bento']}) at {result['endpoint']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make rollback USECASE=<name> [TO=<model version>]")
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 and sys.argv[2] else None))

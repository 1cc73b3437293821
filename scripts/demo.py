"""``make demo``: run the platform's main job through the real scheduler and say where to look."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig, client_connections

SMOKE_DAG = "stack_smoke"
ETL_DAG = "etl_flights"
TRAIN_DAG = "train_flights"
DEPLOY_DAG = "deploy_flights"
# Four weeks of history: enough for a first model, short enough for a demo on 2 cores.
DEMO_FIRST_DAY = os.environ.get("DEMO_FIRST_DAY", "2013-01-01")
DEMO_LAST_DAY = os.environ.get("DEMO_LAST_DAY", "2013-01-28")


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


def load_history(api: AirflowApi, cfg: StackConfig) -> int:
    """Backfill a stretch of flights through the scheduler (days already published are skipped)."""
    api.wait_for_dag(ETL_DAG)
    api.unpause(ETL_DAG)
    started = time.monotonic()
    from include.common.usecase import load_usecase

    timezone = load_usecase(ETL_DAG.removeprefix("etl_")).source.timezone  # the ETL's timetable runs in it
    backfill_id = api.backfill(ETL_DAG, DEMO_FIRST_DAY, DEMO_LAST_DAY, timezone=timezone)
    print(f"\nBackfilling {ETL_DAG} {DEMO_FIRST_DAY} .. {DEMO_LAST_DAY} (backfill {backfill_id}); "
          f"watch it at {cfg.airflow_url}/dags/{ETL_DAG}")
    api.wait_for_backfill(backfill_id, timeout=3600)
    runs = [r for r in api.runs(ETL_DAG) if DEMO_FIRST_DAY <= (r["logical_date"] or "")[:10] <= DEMO_LAST_DAY]
    states = [r["state"] for r in runs]
    print(f"  {states.count('success')} of {len(runs)} days published in {time.monotonic() - started:.0f}s")
    print(f"  lakeFS: {cfg.lakefs_endpoint}/repositories/flights/objects?ref=main&path=curated/flights/")
    print(f"  lakeFS history of main (one merge commit per day): {cfg.lakefs_endpoint}/repositories/flights/commits")
    print("  validation reports: validation/flights/flight_date=<day>/data_docs/index.html on main")
    return 0 if states and all(state == "success" for state in states) else 1


def train_model(api: AirflowApi, cfg: StackConfig) -> int:
    """Train on the curated history at main's head, through the evaluation gate."""
    api.wait_for_dag(TRAIN_DAG)
    api.wait_for_dag(DEPLOY_DAG)
    api.unpause(DEPLOY_DAG)  # listens to the gate's challenger event
    api.unpause(TRAIN_DAG)
    started = time.monotonic()
    run_id = api.trigger(TRAIN_DAG)
    print(f"\nTraining: {TRAIN_DAG} run {run_id}: {cfg.airflow_url}/dags/{TRAIN_DAG}/runs/{run_id}")
    state = api.wait_for_run(TRAIN_DAG, run_id, timeout=1800)
    tasks = api.task_states(TRAIN_DAG, run_id)
    print(f"  run state: {state} in {time.monotonic() - started:.0f}s; tasks: {tasks}")
    if tasks.get("train") != "success":
        print(f"  see the task logs under {cfg.logs / 'airflow-tasks'}")
        return 1
    pinned, trained = api.xcom(TRAIN_DAG, run_id, "pin_data"), api.xcom(TRAIN_DAG, run_id, "train")
    from include.common.metadata import TagKey
    from mlops.hooks.mlflow import MlflowHook

    os.environ.update(client_connections(cfg))
    client = MlflowHook().get_conn()
    metrics = client.get_run(trained["run_id"]).data.metrics
    verdict = client.get_model_version(trained["model_name"], trained["model_version"]).tags.get(TagKey.GATE_VERDICT)
    aliases = dict(client.get_registered_model(trained["model_name"]).aliases)
    print(f"  data: lakeFS flights@{pinned['commit_id'][:12]}, {pinned['window_start']} to {pinned['window_end']}")
    print(f"  holdout ROC AUC {metrics['holdout.roc_auc']:.3f}, PR AUC {metrics['holdout.pr_auc']:.3f}, "
          f"Brier {metrics['holdout.brier']:.3f}")
    print(f"  model {trained['model_name']} version {trained['model_version']}: gate {verdict}; aliases {aliases}")
    if verdict == "reject":
        tags = client.get_model_version(trained["model_name"], trained["model_version"]).tags
        print(f"  rejected because: {'; '.join(json.loads(tags.get(TagKey.GATE_REASONS, '[]')))}")
    print(f"  MLflow run:           {trained['run_url']}")
    print(f"  MLflow model version: {cfg.mlflow_uri}/#/models/{trained['model_name']}/versions/"
          f"{trained['model_version']}")
    print(f"  reproduce it:         make reproduce RUN_ID={trained['run_id']}")
    return 0 if state == "success" and verdict == "pass" else 1


def deploy_model(api: AirflowApi, cfg: StackConfig) -> int:
    """Follow the deploy run the challenger event started; approve production as the demo's user."""
    started = time.monotonic()
    run_id = ""
    while not run_id and time.monotonic() - started < 300:
        runs = [r for r in api.runs(DEPLOY_DAG) if r["state"] in ("queued", "running")]
        run_id = runs[-1]["dag_run_id"] if runs else ""
        time.sleep(2)
    if not run_id:
        print(f"\nNo {DEPLOY_DAG} run started from the challenger event: see {cfg.airflow_url}/dags/{DEPLOY_DAG}")
        return 1
    print(f"\nDeploying: {DEPLOY_DAG} run {run_id}: {cfg.airflow_url}/dags/{DEPLOY_DAG}/runs/{run_id}")
    if api.wait_for_task(DEPLOY_DAG, run_id, "approve_production", {"awaiting_input"}, 1200) == "awaiting_input":
        validation = api.xcom(DEPLOY_DAG, run_id, "infra_validation")
        print("  packaged, validated for real and staged:\n    " + validation["summary"].replace("\n", "\n    "))
        print(f"  approving production as {cfg.admin_user} (people answer in the UI: Browse -> Required Actions)")
        api.answer_approval(DEPLOY_DAG, run_id, "approve_production", "Approve")
    state = api.wait_for_run(DEPLOY_DAG, run_id, timeout=600)
    print(f"  run state: {state} in {time.monotonic() - started:.0f}s; tasks: {api.task_states(DEPLOY_DAG, run_id)}")
    if state != "success":
        print(f"  see the task logs under {cfg.logs / 'airflow-tasks'}")
        return 1
    production = api.xcom(DEPLOY_DAG, run_id, "deploy_production")
    record = sample_record(cfg, production["model_version"])
    print(f"  production serves flights_delay version {production['model_version']} at {production['endpoint']} "
          f"(API docs: {production['endpoint']}/docs)")
    print("  try it:\n    curl -s -X POST " + f"{production['endpoint']}/predict -H 'Content-Type: application/json' "
          f"-d '{json.dumps({'records': [record]})}'")
    print("  roll back: make rollback USECASE=flights")
    print(f"\nMonitoring: unpause monitor_flights ({cfg.airflow_url}/dags/monitor_flights) and run it for a day loaded "
          "after the champion's window (README: Monitoring, 'Try it by hand')")
    return 0


def sample_record(cfg: StackConfig, version: str) -> dict[str, object]:
    """One held-out record of the version's training run, as a client would send it."""
    import pandas as pd

    from include.common.metadata import Artifact
    from mlops.hooks.mlflow import MlflowHook

    os.environ.update(client_connections(cfg))
    client = MlflowHook().get_conn()
    run_id = str(client.get_model_version("flights_delay", version).run_id)
    frame = pd.read_parquet(client.download_artifacts(run_id, Artifact.HOLDOUT_SAMPLE)).head(1)
    return dict(json.loads(frame.to_json(orient="records"))[0])


def main() -> int:
    cfg = StackConfig.from_env()
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    return run_smoke(api, cfg) or load_history(api, cfg) or train_model(api, cfg) or deploy_model(api, cfg)


if __name__ == "__main__":
    sys.exit(main())

"""
### Stack smoke test

Proves the local platform works end to end through the real scheduler:

1. reads a few rows of `flights` from the source system (`source_db` connection);
2. writes them to lakeFS (repository `platform-smoke`, named per environment like every repository, kept
   apart from the curated datasets) on a run branch, commits with the Airflow run's metadata and merges
   into `main` (`lakefs_default` connection);
3. logs a run to MLflow (experiment `stack_smoke`, named per environment) that records the lakeFS commit
   (`mlflow_default` connection).

Trigger it from the UI (no parameters) or with `make demo`.

**Operator's guide:** [Troubleshooting the stack](/mlops-guide/#troubleshooting-the-stack)
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, get_current_context, task

from mlops.factories import paused_upon_creation

SMOKE_REPOSITORY = "platform-smoke"
SMOKE_EXPERIMENT = "stack_smoke"
SAMPLE_QUERY = """
SELECT year, month, day, carrier, flight, origin, dest, arr_delay, time_hour::text AS time_hour
FROM flights ORDER BY time_hour, carrier, flight LIMIT %(limit)s
"""


@dag(
    dag_id="stack_smoke",
    schedule=None,
    is_paused_upon_creation=paused_upon_creation(),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["platform", "smoke"],
    doc_md=__doc__,
    default_args={"owner": "ml-platform", "retries": 1, "retry_delay": timedelta(seconds=10)},
)
def stack_smoke() -> None:
    @task
    def read_source_sample(limit: int = 5) -> list[dict[str, object]]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        hook = PostgresHook(postgres_conn_id="source_db")
        with hook.get_conn() as conn, conn.cursor() as cur:
            cur.execute(SAMPLE_QUERY, {"limit": limit})
            names = [column[0] for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @task(multiple_outputs=False)
    def commit_to_lakefs(rows: list[dict[str, object]]) -> dict[str, str]:
        from include.common.environments import current_environment
        from include.common.lineage import branch_name
        from include.common.tabular import rows_to_csv
        from mlops.hooks.lakefs import LakeFSHook
        from mlops.run_context import metadata_from_context

        context = get_current_context()
        metadata = {**metadata_from_context(context), "rows": str(len(rows))}
        hook = LakeFSHook(repository=current_environment().naming.name("lakefs_repository", SMOKE_REPOSITORY))
        hook.ensure_repository()
        branch = branch_name("smoke", context["dag_run"].run_id)
        path = f"smoke/{branch}.csv"
        hook.create_branch(branch, source="main")
        hook.upload(branch, path, rows_to_csv(rows), content_type="text/csv")
        commit_id = hook.commit(branch, f"stack smoke sample ({len(rows)} rows)", metadata)
        merge_id = hook.merge(branch, "main", f"Merge {branch}", metadata)
        hook.delete_branch(branch)
        return {"repository": hook.repository_id, "path": path, "commit": commit_id, "merge": merge_id,
                "rows": str(len(rows))}

    @task(multiple_outputs=False)
    def log_to_mlflow(lakefs_result: dict[str, str]) -> dict[str, str]:
        from include.common.environments import current_environment
        from include.common.metadata import TagKey
        from include.training.tracking import experiment_id, log_values, mlflow_run
        from mlops.hooks.mlflow import MlflowHook
        from mlops.run_context import metadata_from_context

        context = get_current_context()
        client = MlflowHook().get_conn()
        tags = {**metadata_from_context(context), TagKey.LAKEFS_REPOSITORY: lakefs_result["repository"],
                TagKey.LAKEFS_COMMIT: lakefs_result["merge"]}
        experiment = current_environment().naming.name("experiment", SMOKE_EXPERIMENT)
        with mlflow_run(client, experiment, context["dag_run"].run_id, tags) as run_id:
            log_values(client, run_id, {"lakefs_path": lakefs_result["path"]}, {"rows": float(lakefs_result["rows"])})
        return {"run_id": run_id, "experiment_id": experiment_id(client, experiment)}

    log_to_mlflow(commit_to_lakefs(read_source_sample()))


stack_smoke()

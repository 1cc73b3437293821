"""Build the ``etl_<use case>`` DAG from a use case's configuration (cheap to parse)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from include.common.usecase import UseCase
from mlops.assets import curated_asset
from mlops.notifications.failure import failure_notifier
from mlops.operators.etl import (
    CommitPartitionOperator,
    ExtractToBranchOperator,
    PublishPartitionOperator,
    ValidatePartitionOperator,
)

# Manual runs may have no logical date and no data interval (only ``dag_run`` is always there).
PARTITION_DATE = (
    "{{ params.partition_date or (dag_run.data_interval_start.strftime('%Y-%m-%d') "
    "if dag_run.data_interval_start else '') }}"
)
CRON_ALIASES = {"@daily": "0 0 * * *"}


def etl_doc(usecase: UseCase, first: date, last: date) -> str:
    return f"""
### ETL `{usecase.name}`: source → lakeFS (write-audit-publish)

{usecase.description}

One run = one day (`{usecase.partition_column}`), from the data interval, or from the
`partition_date` parameter of a manual run. Data range: **{first} → {last}** (`{usecase.clock.mode}` mode).

1. `extract_to_branch`: query the day from `{usecase.source.connection_id}`, transform, write
   `{usecase.dataset_prefix}/{usecase.partition_column}=<day>/part-0.parquet` on a run branch
   `etl-{usecase.name}-<day>-<run>`.
2. `validate`: Great Expectations suite `{usecase.validation.suite}` + row-count bounds learned from recent
   partitions; result JSON and Data Docs stored beside the partition. On failure the branch is kept as
   `quarantine-{usecase.name}-<day>-<run>` and the task fails listing the failed expectations.
3. `commit`: commit with the run's metadata, row counts and validation statistics.
4. `publish`: merge into `main`, delete the run branch, emit the `curated_{usecase.name}` Asset event
   (extra: lakeFS commit id).

History is loaded with backfills (Trigger → Backfill in the UI, `airflow backfill create`, or
`POST /api/v2/backfills`). Failures alert by email and webhook (flood-controlled per DAG).
"""


def build_etl_dag(usecase: UseCase) -> DAG:
    first, last = usecase.date_range()
    cron = CRON_ALIASES.get(usecase.schedule, usecase.schedule)
    with DAG(
        dag_id=f"etl_{usecase.name}",
        schedule=CronDataIntervalTimetable(cron, timezone="UTC"),
        start_date=datetime.combine(first, datetime.min.time(), UTC),
        end_date=datetime.combine(last, datetime.min.time(), UTC),
        catchup=False,
        max_active_runs=usecase.max_active_runs,
        tags=["etl", usecase.name, "lakefs", "great-expectations"],
        doc_md=etl_doc(usecase, first, last),
        default_args={"owner": usecase.owner, "retries": 2, "retry_delay": timedelta(seconds=20),
                      "on_failure_callback": failure_notifier()},
        params={"partition_date": Param(
            None, type=["null", "string"], format="date", title="Partition date",
            description=f"Day to (re)load, {first} to {last}. Leave empty for scheduled runs and backfills.")},
    ) as dag:
        common = {"usecase": usecase.name, "partition_date": PARTITION_DATE}
        extract = ExtractToBranchOperator(task_id="extract_to_branch", **common)
        validate = ValidatePartitionOperator(task_id="validate", **common)
        commit = CommitPartitionOperator(task_id="commit", extract_result=extract.output,
                                         validation_stats=validate.output, **common)
        publish = PublishPartitionOperator(task_id="publish", commit_id=commit.output, extract_result=extract.output,
                                           outlets=[curated_asset(usecase)], **common)
        extract >> validate >> commit >> publish
    return dag

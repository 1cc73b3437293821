"""Build the ``etl_<use case>`` DAG from a use case's configuration (cheap to parse)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from include.common.partitioning import cron_expression
from include.common.usecase import UseCase
from mlops.assets import curated_asset
from mlops.factories import paused_upon_creation, retry_delay
from mlops.factories.guide import guide_link
from mlops.notifications.failure import failure_notifier
from mlops.operators.etl import (
    AnnounceCuratedOperator,
    CommitPartitionOperator,
    ExtractToBranchOperator,
    PublishPartitionOperator,
    ValidatePartitionOperator,
)

# A run's partition: the ``partition_date`` param of a manual run, else its data interval (the
# operators resolve and check them with ``include.etl.windows.resolve_partition``). Manual runs may
# have no logical date and no data interval (only ``dag_run`` is always there).
PARTITION_DATE = "{{ params.partition_date or '' }}"
INTERVAL_START = "{{ dag_run.data_interval_start.isoformat() if dag_run.data_interval_start else '' }}"
INTERVAL_END = "{{ dag_run.data_interval_end.isoformat() if dag_run.data_interval_end else '' }}"
STARTS = {"day": "a day", "week": "a Monday (weeks run Monday to Sunday)", "month": "the first day of a month"}


def etl_doc(usecase: UseCase, first: date, last: date) -> str:
    width, key = usecase.partition_width, usecase.partition_column
    return f"""
### ETL `{usecase.name}`: source → lakeFS (write-audit-publish)

{usecase.description}

One run = one **{width}** partition, named by its start (`{key}` = {STARTS[width]}): the run's data
interval (schedule `{usecase.schedule}` in {usecase.source.timezone}, one interval per {width}), or the
`partition_date` parameter of a manual run. Source window: local midnight of the start to local midnight of
the next start in {usecase.source.timezone}. Partitions: **{first} → {last}** (`{usecase.clock.mode}` mode).

1. `extract_to_branch`: query the window from `{usecase.source.connection_id}`, transform, write
   `{usecase.dataset_prefix}/{key}=<start>/part-0.parquet` on a run branch
   `etl-{usecase.name}-<start>-<run>`.
2. `validate`: Great Expectations suite `{usecase.validation.suite}` + row-count bounds learned from recent
   partitions; result JSON and Data Docs stored beside the partition. On failure the branch is kept as
   `quarantine-{usecase.name}-<start>-<run>` and the task fails listing the failed expectations.
3. `commit`: commit with the run's metadata, row counts and validation statistics.
4. `publish`: merge into `main`, delete the run branch.
5. `announce`: emit the `curated_{usecase.name}` Asset event (extra: lakeFS commit id, partition, path, rows),
   which starts `train_{usecase.name}`. **Skipped in backfill runs**: a history load triggers no training.

History is loaded with backfills (Trigger → Backfill in the UI, `airflow backfill create`, or
`POST /api/v2/backfills`; the range is of logical dates, i.e. partition starts at local midnight in
{usecase.source.timezone}). Failures alert by email and webhook (flood-controlled per DAG).

{guide_link("daily", "history", "quarantine", "alerts")}
"""


def build_etl_dag(usecase: UseCase) -> DAG:
    """``etl_<name>``: one run per partition; its timetable runs in the source's time zone, so each data
    interval is one partition from local midnight to local midnight."""
    first, last = usecase.partition_range()
    zone = ZoneInfo(usecase.source.timezone)
    with DAG(
        dag_id=f"etl_{usecase.name}",
        is_paused_upon_creation=paused_upon_creation(),
        schedule=CronDataIntervalTimetable(cron_expression(usecase.schedule), timezone=usecase.source.timezone),
        start_date=datetime.combine(first, time(), zone),
        end_date=datetime.combine(last, time(), zone),  # the last partition's start: its interval is the last
        catchup=False,
        max_active_runs=usecase.max_active_runs,
        tags=["etl", usecase.name, "lakefs", "great-expectations"],
        doc_md=etl_doc(usecase, first, last),
        default_args={"owner": usecase.owner, "retries": 2, "retry_delay": retry_delay(20),
                      "on_failure_callback": failure_notifier()},
        params={"partition_date": Param(
            None, type=["null", "string"], format="date", maxLength=10, title="Partition start",
            description=f"The {usecase.partition_width} partition to (re)load, named by its start "
                        f"({STARTS[usecase.partition_width]}), {first} to {last}. Leave empty for scheduled "
                        "runs and backfills (they load their data interval).")},
    ) as dag:
        common = {"usecase": usecase.name, "partition_date": PARTITION_DATE,
                  "data_interval_start": INTERVAL_START, "data_interval_end": INTERVAL_END}
        extract = ExtractToBranchOperator(task_id="extract_to_branch", **common)
        validate = ValidatePartitionOperator(task_id="validate", **common)
        commit = CommitPartitionOperator(task_id="commit", extract_result=extract.output,
                                         validation_stats=validate.output, **common)
        publish = PublishPartitionOperator(task_id="publish", commit_id=commit.output, extract_result=extract.output,
                                           **common)
        announce = AnnounceCuratedOperator(task_id="announce", usecase=usecase.name, published=publish.output,
                                           outlets=[curated_asset(usecase)])
        extract >> validate >> commit >> publish >> announce
    return dag

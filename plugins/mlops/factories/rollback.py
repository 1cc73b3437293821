"""Build the ``rollback_data_<use case>`` DAG: roll lakeFS ``main`` back to an earlier commit (cheap to parse)."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Param

from include.common.environments import usecase_names
from include.common.params import LAKEFS_REF_PATTERN, REASON_MAX_LENGTH, REASON_MIN_LENGTH
from include.common.usecase import UseCase
from mlops.assets import curated_asset
from mlops.factories import paused_upon_creation, retry_delay
from mlops.factories.guide import guide_link
from mlops.notifications.failure import failure_notifier
from mlops.operators.rollback import RollbackDataOperator, StaleMonitoringOperator


def monitoring_doc(usecase: UseCase) -> str:
    if usecase.monitoring is None:
        return ""
    return f"""
Monitoring reports under `monitoring/{usecase.name}/` are kept (results, like MLflow runs). `stale_monitoring`
lists the days whose partition changed and that `monitor_{usecase.name}` had already reported on; `remonitor`
triggers a `monitor_{usecase.name}` run for each (`day` param; queued while that DAG is paused), which replaces
the day's report and MLflow run. A day the rollback removed keeps its report and is not monitored again."""


def rollback_doc(usecase: UseCase) -> str:
    return f"""
### Roll back `{usecase.name}`'s curated data on lakeFS `main`

For a day (or several) published by mistake: `main` of repository `{usecase_names(usecase).lakefs_repository}` gets the
content of the commit `to_commit` again, as a **new** commit. History is kept: the undone commits stay in
`main`'s log (roll back to them the same way to restore them). The rollback commit and its merge into
`main` record the target, `main`'s previous head, the `reason` and the triggering user
(`rollback_to`, `rollback_from`, `rollback_reason`, `rollback_requested_by`).

The `rollback` task emits the `curated_{usecase.name}` Asset event with the new commit, so
`train_{usecase.name}` sees the change: the next training pins the rolled-back data.{monitoring_doc(usecase)}

From a shell: `make rollback-data USECASE={usecase.name} TO=<commit> REASON="..."` triggers this DAG.
Find the commit in lakeFS (`Commits` of `main`) or in the `publish` task's lakeFS link of a good ETL run.

{guide_link("rollback", "history")}
"""


def build_rollback_dag(usecase: UseCase) -> DAG:
    with DAG(
        dag_id=f"rollback_data_{usecase.name}",
        is_paused_upon_creation=paused_upon_creation(),
        schedule=None,
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        tags=["data", "rollback", usecase.name, "lakefs"],
        doc_md=rollback_doc(usecase),
        default_args={"owner": usecase.owner, "retries": 2, "retry_delay": retry_delay(20),
                      "on_failure_callback": failure_notifier()},
        params={
            "to_commit": Param(type="string", minLength=1, maxLength=300, pattern=LAKEFS_REF_PATTERN,
                               title="Commit of main to roll back to",
                               description=f"A commit id (or a reference such as main~1) in the history of "
                                           f"{usecase_names(usecase).lakefs_repository}'s main."),
            "reason": Param(type="string", minLength=REASON_MIN_LENGTH, maxLength=REASON_MAX_LENGTH,
                            title="Reason", description="Why (recorded on the rollback commit with your user name)."),
        },
    ) as dag:
        rollback = RollbackDataOperator(task_id="rollback", usecase=usecase.name, to_commit="{{ params.to_commit }}",
                                        reason="{{ params.reason }}", outlets=[curated_asset(usecase)])
        if usecase.monitoring is not None:
            stale = StaleMonitoringOperator(task_id="stale_monitoring", usecase=usecase.name,
                                            rolled_back=rollback.output)
            remonitor = TriggerDagRunOperator.partial(
                task_id="remonitor", trigger_dag_id=f"monitor_{usecase.name}", logical_date=None,
                skip_when_already_exists=True,
            ).expand_kwargs(stale.output)
            rollback >> stale >> remonitor
    return dag

"""Build the ``monitor_<use case>`` DAG from a use case's ``monitoring`` settings (cheap to parse)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from airflow.sdk import DAG, CronDataIntervalTimetable, Param

from include.common.environments import usecase_names
from include.common.partitioning import cron_expression
from include.common.usecase import UseCase
from mlops.assets import drift_asset
from mlops.factories import paused_upon_creation, retry_delay
from mlops.factories.guide import guide_link
from mlops.notifications.failure import failure_notifier
from mlops.operators.monitoring import (
    DAY_TEMPLATE,
    INTERVAL_TEMPLATE,
    DriftAlertOperator,
    MonitorDayOperator,
    RequestRetrainingOperator,
    WaitForPartitionSensor,
)


def monitoring_doc(usecase: UseCase) -> str:
    config, training, names = usecase.require_monitoring(), usecase.require_training(), usecase_names(usecase)
    guard = config.retraining
    overrides = ", ".join(f"`{c}` {t}" for c, t in config.column_thresholds.items()) or "none"
    return f"""
### Monitoring `{usecase.name}`: the champion of `{names.registered_model}` against each new partition

One run per {usecase.partition_width} (the data interval in {usecase.source.timezone}, like `etl_{usecase.name}`;
backfillable from the UI: Trigger → Backfill), or the `day` parameter of a manual run.

1. `wait_for_partition`: waits (reschedule mode, no worker slot held) until the day's curated partition is
   on lakeFS `main`.
2. `monitor`: **reference** = the champion's training data, read at the lakeFS commit and window recorded on
   its MLflow run (at most {config.reference_sample} rows, seeded sample); **current** = the day's partition, or
   the shortest trailing window of up to {config.max_window} partitions holding **{config.min_rows} rows**
   (fewer even then: skipped, no verdict). No champion yet: skipped. Evidently 0.7 reports, every column with an
   explicit method and threshold and an explicit `DataDefinition`:
   - data drift over {len(usecase.monitored_columns)} features: numerical `{config.numerical_method}` ≥
     {config.numerical_threshold}, categorical (`{', '.join(config.categorical_columns)}`) `{config.categorical_method}`
     ≥ {config.categorical_threshold}; calibrated per-column thresholds: {overrides}; not monitored:
     `{', '.join(config.ignore_columns) or 'none'}`. **Dataset drift** when ≥ {config.drift_share:.0%} of them drift;
   - **prediction drift**: the champion's predictions, current vs reference, Wasserstein (normed) ≥
     {config.prediction_threshold};
   - **performance** on the labelled rows (`{usecase.target}`): `{training.gate.primary_metric}` vs the champion's
     holdout value, degraded beyond {config.performance_tolerance}.

   Reports (HTML + JSON), `summary.json` and the trend plot (last {config.trend_days} days) are committed to lakeFS
   under `monitoring/{usecase.name}/<day>/` (merged into `main`, run metadata on the commit) and logged to MLflow
   experiment `{names.monitoring_experiment}` (one run per day, a re-run replaces it; summary figures are metrics
   with the day as step). Extra links: **Drift report**, **Trend plot**, **MLflow run**, **lakeFS**.
3. `alert`: beyond a threshold → email + webhook with what drifted, by how much and the links
   (flood-controlled per DAG). Skipped when nothing drifted, and in backfill runs.
4. `request_retraining`: emits `drift_{usecase.name}` (which `train_{usecase.name}` listens to) only when the
   guard rails allow it, else skipped with the reason: not from a backfill (unless `retraining.from_backfill`
   is true, now {str(guard.from_backfill).lower()}, or the run's `retrain_in_backfill` param asks);
   the day is after the champion's window with ≥ {guard.min_new_labelled_rows} labelled rows since; at most one
   request per {guard.cooldown_days} monitored days (re-checked by `train_{usecase.name}`).

{guide_link("drift", "alerts", "logs")}
"""


def build_monitoring_dag(usecase: UseCase) -> DAG:
    first, last = usecase.partition_range()
    zone = ZoneInfo(usecase.source.timezone)
    with DAG(
        dag_id=f"monitor_{usecase.name}",
        is_paused_upon_creation=paused_upon_creation(),
        schedule=CronDataIntervalTimetable(cron_expression(usecase.schedule), timezone=usecase.source.timezone),
        start_date=datetime.combine(first, time(), zone),
        end_date=datetime.combine(last, time(), zone),
        catchup=False,
        max_active_runs=4,
        tags=["monitoring", usecase.name, "evidently", "drift"],
        doc_md=monitoring_doc(usecase),
        default_args={"owner": usecase.owner, "retries": 2, "retry_delay": retry_delay(30),
                      "on_failure_callback": failure_notifier()},
        params={
            "day": Param(None, type=["null", "string"], format="date", maxLength=10, title="Day to monitor",
                         description=f"A manual run's {usecase.partition_width} partition (its start), {first} to "
                                     f"{last}. Leave empty for scheduled runs and backfills (they monitor their "
                                     "data interval)."),
            "retrain_in_backfill": Param(False, type="boolean", title="Backfill may request retraining",
                                         description="Drift found by a backfill run requests a retraining too "
                                                     "(other guard rails still apply)."),
        },
    ) as dag:
        common = {"usecase": usecase.name}
        day = {"day": DAY_TEMPLATE, "data_interval_start": INTERVAL_TEMPLATE}
        wait = WaitForPartitionSensor(task_id="wait_for_partition", mode="reschedule", poke_interval=600,
                                      timeout=timedelta(days=2).total_seconds(), **day, **common)
        monitor = MonitorDayOperator(task_id="monitor", pool="monitoring", execution_timeout=timedelta(hours=1),
                                     **day, **common)
        alert = DriftAlertOperator(task_id="alert", monitored=monitor.output, **common)
        retrain = RequestRetrainingOperator(task_id="request_retraining", monitored=monitor.output,
                                            retrain_in_backfill="{{ params.retrain_in_backfill }}",
                                            outlets=[drift_asset(usecase)], **common)
        wait >> monitor >> [alert, retrain]
    return dag

"""Build the ``train_<use case>`` DAG from a use case's ``training`` settings (cheap to parse)."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable, Param

from include.common.params import LAKEFS_REF_PATTERN, MAX_SEED, MODEL_VERSION_PATTERN, partitions_between
from include.common.partitioning import amount
from include.common.usecase import MODEL_FAMILIES, UseCase
from mlops.assets import challenger_asset, curated_asset, drift_asset
from mlops.factories import retry_delay
from mlops.factories.guide import guide_link
from mlops.notifications.failure import failure_notifier
from mlops.operators.base import ChooseBranchOperator, as_bool
from mlops.operators.training import (
    EvaluateModelOperator,
    EvaluationGateOperator,
    PinTrainingDataOperator,
    TrainModelOperator,
)


def choose_branch(evaluate_only: str) -> str:
    """The branch a run takes: ``evaluate`` for evaluate-only runs, else ``train`` (then the gate)."""
    return "evaluate" if as_bool(evaluate_only) else "train"


def training_doc(usecase: UseCase) -> str:
    training = usecase.require_training()
    gate, width = training.gate, usecase.partition_width
    thresholds = ", ".join([*(f"{m} >= {v}" for m, v in gate.minimums.items()),
                            *(f"{m} <= {v}" for m, v in gate.maximums.items())]) or "none"
    return f"""
### Training `{usecase.name}` → MLflow model `{training.registered_model}`, behind an evaluation gate

Runs weekly (`{training.schedule}` UTC), when `curated_{usecase.name}` is updated by a manual or
scheduled ETL run (backfills announce nothing, so a history load starts no training; `max_active_runs=1`
batches events), and when `monitor_{usecase.name}` requests a retraining (`drift_{usecase.name}`, if the use case
is monitored): a run started by drift events alone is skipped within the monitoring cool-down of an earlier
drift-triggered training (its MLflow run carries `mlops.trigger=drift` and `drift_day`).

Windows count **partitions** of the use case's width ({width}s here): `window_days` = {training.window_days},
holdout {training.holdout_days}, at least {training.min_train_days} to train.

1. `pin_data`: resolve the data to **one lakeFS commit** (`data_commit` param, else the Asset event's
   commit, else `main`'s head) and the last `window_days` {width} partitions.
2. `train_or_evaluate`: the `evaluate_only` parameter picks the branch.
3. `train` (pool `training`): time split (last {amount(width, training.holdout_days)} held out), one scikit-learn
   Pipeline, everything logged to MLflow experiment `train_{usecase.name}` (params, metrics overall and per
   slice {usecase.slices}, plots, input datasets with the lakeFS commit, model card, lineage tags), model
   registered as a new version. Or `evaluate` (evaluate-only runs): score the champion, or the version
   named by `evaluate_model_version`, on the same holdout and log an evaluation run; nothing is registered.
4. `evaluation_gate`: challenger and `champion` scored on the same holdout. Value thresholds: {thresholds};
   `{gate.primary_metric}` no worse than the champion by more than {gate.tolerance}
   (min improvement {gate.min_improvement}); no slice with ≥ {gate.min_slice_rows} rows worse by more than
   {gate.slice_tolerance}. Pass → alias `challenger` + Asset `challenger_{usecase.name}`; reject → task
   **skipped**, reasons in the log, the decision JSON on the MLflow run, and a notification.
   `champion` is never moved here.

Reproduce any run: `make reproduce RUN_ID=<mlflow run id>`.

{guide_link("daily", "approve", "alerts", "logs")}
"""


def training_params(usecase: UseCase) -> dict[str, Param]:
    training, width = usecase.require_training(), usecase.partition_width
    fewest = training.holdout_days + training.min_train_days
    most = partitions_between(*usecase.partition_range(), width)  # every partition the source holds
    first, last = usecase.date_range()
    return {
        "window_days": Param(training.window_days, type="integer", minimum=fewest, maximum=max(most, fewest),
                             title=f"Training window ({width} partitions)",
                             description=f"Counts partitions, not calendar days: the last N {width}s of "
                                         f"curated data, holdout (last {amount(width, training.holdout_days)}) "
                                         "included."),
        "window_end": Param(None, type=["null", "string"], format="date", title="Window end",
                            description=f"A day in the window's last {width} partition, {first} to {last}. Empty: the "
                                        "latest partition at the commit."),
        "data_commit": Param(None, type=["null", "string"], pattern=LAKEFS_REF_PATTERN, maxLength=300,
                             title="lakeFS commit or branch",
                             description="Empty: the triggering Asset event's commit, else main's head."),
        "model_family": Param(training.family, type="string", enum=list(MODEL_FAMILIES), title="Model family"),
        "hyperparameters": Param({}, type="object", title="Hyperparameters",
                                 description="Override the use case's defaults for the family, e.g. "
                                             '{"max_iter": 300, "learning_rate": 0.05}.'),
        "seed": Param(training.seed, type="integer", minimum=0, maximum=MAX_SEED, title="Random seed"),
        "evaluate_only": Param(False, type="boolean", title="Evaluate only",
                               description="Train nothing: score the champion (or the version below) and log it."),
        "evaluate_model_version": Param(None, type=["null", "string"], pattern=MODEL_VERSION_PATTERN,
                                        title="Model version to evaluate",
                                        description="With 'Evaluate only'. Empty: the champion."),
        "shuffle_labels": Param(False, type="boolean", title="Sanity check: shuffle labels",
                                description="Train on permuted labels; the gate must reject the result."),
    }


def build_training_dag(usecase: UseCase) -> DAG:
    training = usecase.require_training()
    with DAG(
        dag_id=f"train_{usecase.name}",
        # run_immediately=timedelta(0): unpausing waits for the next fire time. Airflow treats False like
        # None (run the last fire time if it is within 10% of the period: Monday 03:00 for ~17 hours).
        schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(training.schedule, timezone="UTC",
                                                                    run_immediately=timedelta(0)),
                                     assets=(curated_asset(usecase) | drift_asset(usecase)) if usecase.monitoring
                                     else curated_asset(usecase)),
        catchup=False,  # no start_date: unpausing waits for the next Monday instead of training at once
        max_active_runs=1,
        tags=["training", usecase.name, "mlflow", "gate"],
        doc_md=training_doc(usecase),
        default_args={"owner": usecase.owner, "retries": 2, "retry_delay": retry_delay(30),
                      "on_failure_callback": failure_notifier()},
        params=training_params(usecase),
    ) as dag:
        common = {"usecase": usecase.name}
        model = {"model_family": "{{ params.model_family }}", "seed": "{{ params.seed }}",
                 "hyperparameters": "{{ params.hyperparameters | tojson }}",
                 "shuffle_labels": "{{ params.shuffle_labels }}"}
        pinned = PinTrainingDataOperator(task_id="pin_data", window_days="{{ params.window_days }}",
                                         window_end="{{ params.window_end }}", data_commit="{{ params.data_commit }}",
                                         **common)
        train_or_evaluate = ChooseBranchOperator(task_id="train_or_evaluate", choose=choose_branch,
                                                 value="{{ params.evaluate_only }}")
        trained = TrainModelOperator(task_id="train", pinned=pinned.output, pool="training",
                                     execution_timeout=timedelta(hours=2), **model, **common)
        evaluated = EvaluateModelOperator(task_id="evaluate", pinned=pinned.output, pool="training",
                                          model_version="{{ params.evaluate_model_version }}", **model, **common)
        gate = EvaluationGateOperator(task_id="evaluation_gate", pinned=pinned.output, trained=trained.output,
                                      outlets=[challenger_asset(usecase)], **common)
        pinned >> train_or_evaluate >> [trained, evaluated]
        trained >> gate
    return dag

"""Every name that one stage writes and another reads: lakeFS commit metadata, MLflow tags and
artifacts, registry aliases, Asset names and their event extras.

Stages talk only through these (and through lakeFS commits and MLflow aliases), never by
importing each other, so a key is spelled once, here.
"""

from __future__ import annotations

from typing import Final


class RunKey:
    """Lineage of one Airflow task run (lakeFS commit metadata and MLflow tags alike)."""

    DAG_ID: Final = "airflow_dag_id"
    RUN_ID: Final = "airflow_run_id"
    TASK_ID: Final = "airflow_task_id"
    LOGICAL_DATE: Final = "airflow_logical_date"
    INTERVAL_START: Final = "airflow_data_interval_start"
    INTERVAL_END: Final = "airflow_data_interval_end"
    CODE_VERSION: Final = "code_version"


class CommitKey:
    """lakeFS commit metadata written by the ETL (besides ``RunKey``)."""

    USECASE: Final = "mlops_usecase"
    PARTITION: Final = "partition"  # the partition's start date, which names it
    PARTITION_WIDTH: Final = "partition_width"  # day, week or month
    PARTITION_START: Final = "partition_start"
    PARTITION_END: Final = "partition_end"
    PARTITION_PATH: Final = "partition_path"
    PARTITION_SHA256: Final = "partition_sha256"
    ROW_COUNT: Final = "row_count"
    ROW_COUNT_BOUNDS: Final = "row_count_bounds"
    VALIDATION_SUCCESS: Final = "validation_success"
    VALIDATION_EVALUATED: Final = "validation_evaluated"
    VALIDATION_SUCCESSFUL: Final = "validation_successful"
    VALIDATION_FAILED: Final = "validation_failed"
    VALIDATION_WARNINGS: Final = "validation_warnings"
    QUARANTINE: Final = "quarantine"
    SOURCE_COMMIT: Final = "source_commit"  # on a merge into main: the run branch's commit it published
    # a rollback of main (``rollback_data_<name>``): a new commit whose content is an earlier commit's
    ROLLBACK_TO: Final = "rollback_to"  # the commit whose content main has again
    ROLLBACK_FROM: Final = "rollback_from"  # main's head before the rollback (its history is kept)
    ROLLBACK_REASON: Final = "rollback_reason"
    ROLLBACK_REQUESTED_BY: Final = "rollback_requested_by"  # the user who triggered the rollback run
    ROLLBACK_RESTORED: Final = "rollback_restored"  # how many objects were restored / deleted
    ROLLBACK_DELETED: Final = "rollback_deleted"


class TagKey:
    """MLflow run and model-version tags written by training and read by later stages."""

    KIND: Final = "mlops.kind"  # values: RunKind
    USECASE: Final = "usecase"
    LAKEFS_REPOSITORY: Final = "lakefs_repository"
    LAKEFS_COMMIT: Final = "lakefs_commit"
    LAKEFS_URI: Final = "lakefs_uri"
    LAKEFS_COMMIT_URL: Final = "lakefs_commit_url"
    CODE_VERSION: Final = RunKey.CODE_VERSION
    GIT_COMMIT: Final = "mlflow.source.git.commit"
    SANITY_CHECK: Final = "sanity_check"
    REGISTERED_VERSION: Final = "registered_model_version"
    EVALUATED_VERSION: Final = "evaluated_model_version"
    RUN_ID: Final = "run_id"
    GATE_VERDICT: Final = "gate_verdict"
    GATE_REASONS: Final = "gate_reasons"
    GATE_DECISION: Final = "gate_decision"
    # set by deployment on a model version
    BENTO: Final = "bento"  # the Bento (name:version) built from the version
    INFRA_VERDICT: Final = "infra_validation_verdict"
    INFRA_REASONS: Final = "infra_validation_reasons"
    INFRA_REPORT: Final = "infra_validation_report"
    PREVIOUS_CHAMPION: Final = "previous_champion"  # the champion this version replaced
    APPROVED_BY: Final = "approved_by"
    # set by training on a drift-triggered run
    TRIGGER: Final = "mlops.trigger"  # "drift" on a training run started by a drift_<name> event
    DRIFT_DAY: Final = "drift_day"  # the monitored day whose drift started it (or requested it)


class MonitoringKey:
    """MLflow tags of a monitoring run (one per use case and monitored day) and lakeFS commit metadata
    of its reports (besides ``RunKey``)."""

    DAY: Final = "monitoring_day"
    MODEL_NAME: Final = "monitored_model"
    MODEL_VERSION: Final = "monitored_model_version"
    REFERENCE_COMMIT: Final = "reference_commit"
    REFERENCE_WINDOW: Final = "reference_window"
    CURRENT_COMMIT: Final = "current_commit"
    CURRENT_WINDOW: Final = "current_window"
    DRIFT_SHARE: Final = "drift_share"
    DRIFTED_COLUMNS: Final = "drifted_columns"
    VERDICT: Final = "monitoring_verdict"  # "drift" or "ok"
    RETRAIN_REQUESTED: Final = "retrain_requested"  # "true" once this day's drift emitted drift_<name>
    REPORTS_PATH: Final = "reports_path"


class RunKind:
    TRAINING: Final = "training"
    EVALUATION: Final = "evaluation"
    MONITORING: Final = "monitoring"


class Artifact:
    """Artifacts on an MLflow training run."""

    RUN_SETTINGS: Final = "run_settings.json"
    GATE_DECISION: Final = "gate/decision.json"
    MODEL_CARD: Final = "model_card.md"
    HOLDOUT_METRICS: Final = "metrics/holdout.json"
    FEATURE_IMPORTANCE: Final = "metrics/feature_importance.json"
    HOLDOUT_SAMPLE: Final = "data/holdout_sample.parquet"  # feature rows the serving parity check replays
    INFRA_VALIDATION: Final = "serving/infra_validation.json"


class Alias:
    """MLflow registry aliases: the gate sets ``CHALLENGER``; deployment moves ``STAGING`` and, once
    approved, ``CHAMPION`` (the version production serves)."""

    CHALLENGER: Final = "challenger"
    STAGING: Final = "staging"
    CHAMPION: Final = "champion"


class AssetExtra:
    """Keys of Asset event extras."""

    LAKEFS_REPOSITORY: Final = "lakefs_repository"
    COMMIT_ID: Final = "commit_id"
    PARTITION: Final = "partition"
    PATH: Final = "path"
    ROWS: Final = "rows"
    RUN_TYPE: Final = "run_type"
    ROLLBACK_TO: Final = "rollback_to"  # on a rollback's event: the commit whose content main has again
    MODEL_NAME: Final = "model_name"
    MODEL_VERSION: Final = "model_version"
    RUN_ID: Final = "run_id"
    BENTO: Final = "bento"
    ENDPOINT: Final = "endpoint"
    DAY: Final = "day"  # drift_<name>: the monitored day
    REASONS: Final = "reasons"
    REPORT_URL: Final = "report_url"
    ALLOW_BACKFILL: Final = "allow_backfill"  # a backfill's event that asked to retrain anyway


def curated_asset_name(usecase: str) -> str:
    """Updated by every published ETL partition; extras: lakeFS repository, commit, partition, rows."""
    return f"curated_{usecase}"


def challenger_asset_name(usecase: str) -> str:
    """Updated when a model version passes the evaluation gate; extras: model name, version, run."""
    return f"challenger_{usecase}"


def production_asset_name(usecase: str) -> str:
    """Updated when production starts serving another model version (promotion or rollback); extras:
    model name, version, Bento, endpoint."""
    return f"production_{usecase}"


def drift_asset_name(usecase: str) -> str:
    """Updated when monitoring finds drift beyond the thresholds and the retraining guard rails allow a
    retraining; extras: day, reasons, report URL, the monitored model version."""
    return f"drift_{usecase}"


def monitoring_experiment_name(usecase: str) -> str:
    return f"monitor_{usecase}"

"""Use cases as configuration: one YAML file per use case in ``include/usecases/``.

A use case declares its source queries, clock (date range and mode), transform, expectation
suite, features and target, and the settings later stages need. ``load_usecase`` validates it
with clear errors; DAG factories build ``etl_<name>`` (and later DAGs) from it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import Field, ValidationError, model_validator

from include.common.config import Strict, validation_problems
from include.common.metrics import GateConfig
from include.common.partitioning import (
    DEFAULT_SCHEDULES,
    PartitionWidth,
    partition_start,
    require_partition_start,
    schedule_problem,
)

USECASES_DIR = Path(__file__).resolve().parents[1] / "usecases"
EXTRA_DIRS_ENV = "MLOPS_EXTRA_USECASE_DIRS"  # os.pathsep-separated folders, e.g. test fixtures
REPLAY_ANCHOR_ENV = "MLOPS_REPLAY_ANCHOR"
# libyaml's safe loader when PyYAML has it: same documents, about 10x cheaper than the pure-Python one,
# and every DAG file parse loads every use case.
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ModelFamily = Literal["hist_gradient_boosting", "random_forest", "linear"]
MODEL_FAMILIES: tuple[str, ...] = get_args(ModelFamily)


class UseCaseError(ValueError):
    """A use case file is missing or invalid."""


class SourceConfig(Strict):
    connection_id: str = "source_db"
    timezone: str = Field("UTC", description="partition boundaries (local midnights) and the ETL's schedule are "
                                             "in the source's time zone")
    queries: dict[str, str] = Field(
        min_length=1, description="name -> SQL bounded by %(start)s and %(end)s (timestamptz)")

    @model_validator(mode="after")
    def queries_are_bounded(self) -> SourceConfig:
        unbounded = [name for name, sql in self.queries.items()
                     if "%(start)s" not in sql or "%(end)s" not in sql]
        if unbounded:
            raise ValueError(f"queries {unbounded} must be bounded by %(start)s and %(end)s")
        return self


class ClockConfig(Strict):
    mode: Literal["history", "replay"] = "history"
    first_day: date
    last_day: date

    @model_validator(mode="after")
    def ordered(self) -> ClockConfig:
        if self.first_day > self.last_day:
            raise ValueError(f"first_day {self.first_day} is after last_day {self.last_day}")
        return self


class RowCountConfig(Strict):
    default_min: int = Field(ge=1)
    default_max: int
    history: int = Field(14, ge=1, description="recent published partitions the bounds learn from")
    tolerance: float = Field(0.5, ge=0, description="bounds = [min*(1-t), max*(1+t)] of the history")


class ValidationConfig(Strict):
    suite: str = Field(description="GX expectation suite (JSON) beside the use case file")
    row_count: RowCountConfig
    examples: int = Field(5, ge=1, le=50, description="failing values shown per expectation")
    data_docs: Literal["failures", "always"] = Field(
        "failures", description="when GX Data Docs HTML is rendered beside the result JSON (about 5 s a partition)")


class TrainingConfig(Strict):
    """How ``train_<name>`` trains, evaluates and gates a model."""

    schedule: str = Field("0 3 * * 1", description="cron of scheduled trainings (default: Mondays 03:00 UTC)")
    registered_model: str = Field(pattern=r"^[a-z][a-z0-9_-]{1,60}$", description="the declared name; the "
                                  "environment's naming gives the name used (include.common.environments)")
    # Windows count partitions of the use case's partition_width (days for a daily use case, weeks
    # for a weekly one, months for a monthly one); the names keep "days" from the daily use cases.
    window_days: int = Field(56, ge=2, description="trailing partitions of curated data a training reads")
    holdout_days: int = Field(7, ge=1, description="most recent partitions held out for evaluation")
    min_train_days: int = Field(14, ge=1, description="fewer training partitions than this: no training")
    family: ModelFamily = "hist_gradient_boosting"
    hyperparameters: dict[ModelFamily, dict[str, Any]] = Field(
        {}, description="default hyperparameters per model family (a run's parameters override them)")
    seed: int = 42
    decision_threshold: float = Field(0.5, gt=0, lt=1, description="classification: probability for a positive")
    known_limits: list[str] = []
    gate: GateConfig

    @model_validator(mode="after")
    def holdout_fits(self) -> TrainingConfig:
        if self.holdout_days + self.min_train_days > self.window_days:
            raise ValueError(f"holdout_days {self.holdout_days} + min_train_days {self.min_train_days} "
                             f"exceed window_days {self.window_days}")
        return self


class LoadTestConfig(Strict):
    """The infra validation's load test: a fixed number of requests at a fixed concurrency."""

    requests: int = Field(400, ge=10, le=20000)
    concurrency: int = Field(8, ge=1, le=64)
    records_per_request: int = Field(1, ge=1, description="1: single-record requests")


class LatencyBudget(Strict):
    """Over budget, a model is not promoted."""

    p99_ms: float = Field(gt=0, description="99th percentile of request latency")
    min_requests_per_second: float = Field(gt=0)


class ServingConfig(Strict):
    """How ``deploy_<name>`` packages, validates and serves the model (BentoML)."""

    max_batch_size: int = Field(64, ge=2, le=1000, description="records per request, and per adaptive batch")
    max_latency_ms: int = Field(1000, ge=50, description="adaptive batching's latency limit: below the model's own "
                                                         "latency the batcher sheds load as 503 (GUIDE)")
    ready_timeout_seconds: float = Field(120, gt=0, description="a served Bento must answer /readyz within this")
    parity_rows: int = Field(200, ge=1, description="holdout rows replayed through the server and the MLflow model")
    parity_tolerance: float = Field(1e-9, ge=0, description="largest allowed |served - offline| prediction")
    load_test: LoadTestConfig = Field(default_factory=lambda: LoadTestConfig.model_validate({}))
    budget: LatencyBudget
    auto_approve: bool = Field(False, description="promote to production without a human answer; only where the "
                                                  "environment allows it (config/environments: dev)")
    service: str | None = Field(None, description="a replacement BentoML service module, relative to the use case "
                                                  "file (tests inject broken services this way)")


DriftMethod = Literal["wasserstein", "jensenshannon", "psi", "hellinger"]


class RetrainingGuardConfig(Strict):
    """When drift beyond the thresholds may start ``train_<name>`` (each refusal is logged with its reason)."""

    cooldown_days: int = Field(7, ge=0, description="at most one drift-triggered retraining per this many days "
                                                    "(counted on the monitored days, so replays behave alike)")
    min_new_labelled_rows: int = Field(1, ge=0, description="labelled rows needed after the champion's window")
    from_backfill: bool = Field(False, description="backfill runs may request retraining (a run's "
                                                   "retrain_in_backfill param can also ask)")


class MonitoringConfig(Strict):
    """How ``monitor_<name>`` compares each partition with the champion's training data (Evidently 0.7).

    Every monitored column gets an explicit method and threshold (never Evidently's size-dependent
    defaults); all methods here are distances: a column drifts when its score >= its threshold.
    """

    categorical_columns: list[str] = Field(description="monitored features that are categorical; every other "
                                                       "monitored feature is numerical (Evidently's DataDefinition)")
    ignore_columns: list[str] = Field([], description="features not monitored (say why in the YAML)")
    numerical_method: DriftMethod = "wasserstein"
    numerical_threshold: float = Field(0.1, gt=0)
    categorical_method: DriftMethod = "jensenshannon"
    categorical_threshold: float = Field(0.1, gt=0)
    column_thresholds: dict[str, float] = Field({}, description="per-column overrides (calibrated)")
    drift_share: float = Field(0.3, gt=0, le=1, description="dataset drift: this share of monitored columns drifts")
    prediction_threshold: float = Field(0.1, gt=0, description="prediction drift: Wasserstein (normed) of the "
                                                               "champion's predictions, current vs reference")
    performance_tolerance: float = Field(description="the gate's primary metric may be worse than the champion's "
                                                     "holdout value by at most this before it counts as drift")
    min_rows: int = Field(ge=1, description="a current sample needs this many rows; a smaller partition is "
                                            "widened to a trailing window")
    max_window: int = Field(7, ge=1, description="trailing partitions a current window may span; still below "
                                                 "min_rows: the day is skipped")
    reference_sample: int = Field(20000, ge=100, description="reference rows (seeded sample when larger)")
    trend_days: int = Field(30, ge=2, description="days shown in the trend plot")
    retraining: RetrainingGuardConfig = RetrainingGuardConfig.model_validate({})

    def threshold(self, column: str, categorical: bool) -> float:
        default = self.categorical_threshold if categorical else self.numerical_threshold
        return self.column_thresholds.get(column, default)


class UseCase(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    description: str
    owner: str
    task: Literal["binary_classification", "regression"]
    lakefs_repository: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,62}$", description="the declared name; the "
                                   "environment's naming gives the name used (include.common.environments)")
    partition_width: PartitionWidth = Field(
        "day", description="day, week (Monday to Sunday) or month: one ETL run loads one partition")
    schedule: str = Field(description="cron or preset of the ETL; default: the one partition_width implies")
    max_active_runs: int = Field(8, ge=1)
    clock: ClockConfig
    source: SourceConfig
    transform: str = Field(pattern=r"^[\w.]+:\w+$", description="module:function building a partition")
    partition_column: str
    key_columns: list[str] = Field(min_length=1)
    target: str
    features: list[str] = Field(min_length=1)
    slices: list[str] = []
    validation: ValidationConfig
    training: TrainingConfig | None = None
    serving: ServingConfig | None = None
    monitoring: MonitoringConfig | None = None
    folder: Path = Field(exclude=True)

    @model_validator(mode="before")
    @classmethod
    def default_schedule(cls, raw: Any) -> Any:
        """No schedule given: the one that runs once per partition of the declared width."""
        if isinstance(raw, dict) and raw.get("schedule") is None:
            width = raw.get("partition_width", "day")
            return {**raw, "schedule": DEFAULT_SCHEDULES.get(width, DEFAULT_SCHEDULES["day"])}
        return raw

    @model_validator(mode="after")
    def schedule_fits_width(self) -> UseCase:
        problem = schedule_problem(self.schedule, self.partition_width)
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def monitoring_fits(self) -> UseCase:
        if self.monitoring is None:
            return self
        if self.training is None:
            raise ValueError("monitoring needs a 'training' section (it watches the champion of its model)")
        named = {*self.monitoring.categorical_columns, *self.monitoring.ignore_columns,
                 *self.monitoring.column_thresholds}
        unknown = sorted(named - set(self.features))
        if unknown:
            raise ValueError(f"monitoring names columns that are not features: {unknown}")
        return self

    def require_training(self) -> TrainingConfig:
        """The ``training`` section; a use case without one cannot be trained (a configuration error)."""
        if self.training is None:
            raise UseCaseError(f"use case {self.name!r} has no 'training' section")
        return self.training

    @model_validator(mode="after")
    def serving_needs_training(self) -> UseCase:
        if self.serving is not None and self.training is None:
            raise ValueError("a 'serving' section needs a 'training' section (it serves the trained model)")
        return self

    def require_serving(self) -> ServingConfig:
        """The ``serving`` section; a use case without one has no deployment (a configuration error)."""
        if self.serving is None:
            raise UseCaseError(f"use case {self.name!r} has no 'serving' section")
        return self.serving

    def require_monitoring(self) -> MonitoringConfig:
        if self.monitoring is None:
            raise UseCaseError(f"use case {self.name!r} has no 'monitoring' section")
        return self.monitoring

    @property
    def monitored_columns(self) -> list[str]:
        ignored = set(self.monitoring.ignore_columns) if self.monitoring else set()
        return [column for column in self.features if column not in ignored]

    def monitoring_prefix(self, day: date) -> str:
        """Where the reports of one monitored day live on lakeFS (beside the data they describe)."""
        return f"monitoring/{self.name}/{day.isoformat()}"

    @property
    def dataset_prefix(self) -> str:
        return f"curated/{self.name}"

    def partition_path(self, start: date) -> str:
        """The one object of the partition starting at ``start`` (``ValueError`` if none starts there)."""
        start = require_partition_start(start, self.partition_width)
        return f"{self.dataset_prefix}/{self.partition_column}={start.isoformat()}/part-0.parquet"

    def validation_prefix(self, start: date) -> str:
        start = require_partition_start(start, self.partition_width)
        return f"validation/{self.name}/{self.partition_column}={start.isoformat()}"

    @property
    def suite_path(self) -> Path:
        return self.folder / self.validation.suite

    def transform_function(self) -> Callable[..., Any]:
        module, function = self.transform.split(":")
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]

    def date_range(self, anchor: date | None = None) -> tuple[date, date]:
        """The days the source has: the original dates, or shifted by whole weeks in replay mode."""
        shift = replay_shift(self.clock.last_day, anchor or replay_anchor()) if self.clock.mode == "replay" \
            else timedelta(0)
        return self.clock.first_day + shift, self.clock.last_day + shift

    def partition_range(self, anchor: date | None = None) -> tuple[date, date]:
        """Starts of the first and the last partition that hold the source's days (see ``date_range``)."""
        first, last = self.date_range(anchor)
        return partition_start(first, self.partition_width), partition_start(last, self.partition_width)


def replay_anchor() -> date:
    """The day replay mode aligns to: ``MLOPS_REPLAY_ANCHOR`` (set when the source was seeded) or today."""
    value = os.environ.get(REPLAY_ANCHOR_ENV)
    return date.fromisoformat(value) if value else date.today()


def replay_shift(last_day: date, anchor: date) -> timedelta:
    """Whole weeks that move ``last_day`` to the first day on or after the anchor's yesterday."""
    behind = (anchor - timedelta(days=1) - last_day).days
    return timedelta(weeks=max(0, -(-behind // 7)))


def usecase_files() -> list[Path]:
    folders = [USECASES_DIR, *(Path(p) for p in os.environ.get(EXTRA_DIRS_ENV, "").split(os.pathsep) if p)]
    return sorted(path for folder in folders for path in folder.glob("*.yaml"))


@cache
def load_usecase_file(path: Path) -> UseCase:
    try:
        raw = yaml.load(path.read_text(), Loader=SAFE_LOADER)
        usecase = UseCase.model_validate({**(raw or {}), "folder": path.parent})
    except (OSError, yaml.YAMLError) as error:
        raise UseCaseError(f"{path}: cannot read: {error}") from error
    except ValidationError as error:
        raise UseCaseError(f"{path}: invalid use case: {validation_problems(error)}") from None
    if usecase.name != path.stem:
        raise UseCaseError(f"{path}: name {usecase.name!r} must match the file name {path.stem!r}")
    if not usecase.suite_path.exists():
        raise UseCaseError(f"{path}: expectation suite {usecase.suite_path} not found")
    return usecase


def load_usecases() -> list[UseCase]:
    return [load_usecase_file(path) for path in usecase_files()]


def load_usecase(name: str) -> UseCase:
    for usecase in load_usecases():
        if usecase.name == name:
            return usecase
    raise UseCaseError(f"no use case named {name!r} in {[p.stem for p in usecase_files()]}")

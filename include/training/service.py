"""The training stage as plain functions: pin a window, train and log, gate, evaluate.

Operators, ``scripts/reproduce.py`` and ``benchmarks/`` all call these. Each takes the clients it
needs (an ``MlflowClient``, a lakeFS ``Repository``) as arguments and never talks to Airflow.
"""

from __future__ import annotations

import json
import logging
import resource
import time
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from include.common.datasets import read_days
from include.common.metadata import Alias
from include.common.params import ParameterError, check_date_in_range, partitions_between
from include.common.registry import alias_version, has_model_version
from include.common.retraining import cooldown_refusal
from include.common.usecase import UseCase
from include.training.gate import GateDecision, HoldoutData, ModelScore, evaluate_gate
from include.training.tracking import (
    DataRef,
    LoggedRun,
    drift_triggered_days,
    load_model,
    log_evaluation_run,
    log_training,
    registered_model,
)
from include.training.trainer import Evaluation, RunSettings, evaluate, train, training_window

if TYPE_CHECKING:
    import pandas as pd
    from lakefs import Repository
    from mlflow import MlflowClient

log = logging.getLogger(__name__)


class TrainingInputError(ValueError):
    """A run's parameters do not fit the use case or its data (a user error: retrying cannot help)."""


class TooFewDaysError(TrainingInputError):
    """The pinned data has fewer partition days than training needs."""


@dataclass(frozen=True)
class PinnedData:
    """The data one training run reads: a lakeFS commit and a window of partitions (``days``: how many)."""

    repository: str
    commit_id: str
    reference: str
    window_start: date
    window_end: date
    days: int

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat()}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PinnedData:
        return cls(**{**raw, "window_start": date.fromisoformat(raw["window_start"]),
                      "window_end": date.fromisoformat(raw["window_end"])})


def pin_window(usecase: UseCase, available: list[date], window_days: int, window_end: date | None) -> list[date]:
    """The partitions (their starts) a run trains on: the last ``window_days`` partitions of the use case's
    width; ``TooFewDaysError`` when they cannot hold train + holdout (both counted in partitions too)."""
    training, width = usecase.require_training(), usecase.partition_width
    check_window_parameters(usecase, window_days, window_end)
    try:
        days = training_window(available, window_days, window_end, width)
    except ValueError as error:
        raise TrainingInputError(str(error)) from None
    needed = training.holdout_days + training.min_train_days
    if len(days) < needed:
        counted = "partition days" if width == "day" else f"{width} partitions"
        raise TooFewDaysError(f"{len(days)} {counted} in the window ({days[0]} to {days[-1]}); training "
                              f"needs at least {needed} ({training.min_train_days} to train + "
                              f"{training.holdout_days} held out)")
    return days


def check_window_parameters(usecase: UseCase, window_days: int, window_end: date | None) -> None:
    """``TrainingInputError`` naming ``window_days`` or ``window_end`` when they leave the source's data range
    (a window wider than every partition the source holds, an end outside its days)."""
    width = usecase.partition_width
    most = partitions_between(*usecase.partition_range(), width)
    try:
        if not 1 <= window_days <= most:
            raise ParameterError("window_days", f"{window_days} {width} partitions: the source holds {most} "
                                                f"(1 to {most})")
        if window_end is not None:
            check_date_in_range("window_end", window_end, *usecase.date_range(), what="the source's days")
    except ParameterError as error:
        raise TrainingInputError(str(error)) from None


def parse_hyperparameters(text: str | None) -> dict[str, Any]:
    """A run's hyperparameters parameter: a JSON object (empty: the use case's defaults)."""
    try:
        value = json.loads(text) if text else {}
    except json.JSONDecodeError as error:
        raise TrainingInputError(f"parameter 'hyperparameters' must be a JSON object, not {text!r}: {error}") from None
    if not isinstance(value, dict):
        raise TrainingInputError(f"parameter 'hyperparameters' must be a JSON object, not {text!r}")
    return value


def run_settings_for(usecase: UseCase, pinned: PinnedData, *, family: str | None = None,
                     hyperparameters: dict[str, Any] | None = None, seed: int | None = None,
                     shuffle_labels: bool = False) -> RunSettings:
    """The run's settings: the use case's defaults, overridden by the run's parameters."""
    from include.training.modeling import check_hyperparameters

    training = usecase.require_training()
    family = family or training.family
    merged = {**training.hyperparameters.get(family, {}), **(hyperparameters or {})}  # type: ignore[call-overload]
    try:
        check_hyperparameters(family, usecase.task, merged)
    except ValueError as error:
        raise TrainingInputError(f"parameter 'hyperparameters': {error}") from None
    return RunSettings(usecase=usecase.name, window_start=pinned.window_start, window_end=pinned.window_end,
                       holdout_days=training.holdout_days, family=family, hyperparameters=merged,
                       seed=training.seed if seed is None else seed, decision_threshold=training.decision_threshold,
                       shuffle_labels=shuffle_labels, partition_width=usecase.partition_width)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_window(repository: Repository, usecase: UseCase, commit_id: str, settings: RunSettings) -> pd.DataFrame:
    """Every partition of the run's window at the pinned commit."""
    return read_days(repository, commit_id, usecase, settings.window_start, settings.window_end)


def read_holdout(repository: Repository, usecase: UseCase, commit_id: str, settings: RunSettings) -> pd.DataFrame:
    """Only the held-out days (``RunSettings.holdout_range``: the days the time split held out)."""
    return read_days(repository, commit_id, usecase, *settings.holdout_range)


def train_and_log(client: MlflowClient, usecase: UseCase, settings: RunSettings, frame: pd.DataFrame,
                  data: DataRef, tags: dict[str, str], code_version: str) -> LoggedRun:
    """Train, evaluate and log one run (with its fit time and peak memory); register the model."""
    started = time.perf_counter()
    trained = train(frame, usecase, settings)
    seconds = time.perf_counter() - started
    log.info("trained on %d rows in %.1f s; holdout metrics %s", trained.train_rows, seconds,
             trained.evaluation.metrics)
    return log_training(client, usecase=usecase, settings=settings, trained=trained, data=data, tags=tags,
                        code_version=code_version,
                        resources={"resources.fit_evaluate_seconds": seconds, "resources.peak_rss_mb": peak_rss_mb()})


def score_version(client: MlflowClient, usecase: UseCase, version: str, holdout: pd.DataFrame,
                  settings: RunSettings, run_id: str | None = None) -> tuple[ModelScore, Evaluation]:
    """A registered version's metrics on ``holdout``, overall and per slice."""
    model = load_model(client, registered_model(usecase), version)
    evaluation = evaluate(model, holdout, usecase, settings.decision_threshold)
    return ModelScore(version, evaluation.metrics, evaluation.slices, run_id), evaluation


def gate_decision(client: MlflowClient, repository: Repository, usecase: UseCase, settings: RunSettings,
                  logged: LoggedRun, commit_id: str) -> GateDecision:
    """Score the challenger and the champion (if any) on the run's holdout rows, then apply the gate."""
    holdout = read_holdout(repository, usecase, commit_id, settings)
    challenger, _ = score_version(client, usecase, str(logged.model_version), holdout, settings, logged.run_id)
    champion_version = alias_version(client, logged.model_name, Alias.CHAMPION)
    champion = None
    if champion_version is not None:
        champion, _ = score_version(client, usecase, champion_version, holdout, settings)
    first, last = settings.holdout_range
    data = HoldoutData(repository.id, commit_id, first.isoformat(), last.isoformat(), int(challenger.metrics["rows"]))
    return evaluate_gate(challenger, champion, usecase.require_training().gate, data)


def drift_cooldown_refusal(client: MlflowClient, usecase: UseCase, day: date) -> str | None:
    """Why drift on ``day`` may not start another training (the monitoring cool-down since the last
    drift-triggered training), or None. ``train_<name>`` runs one at a time, so this check is race-free."""
    return cooldown_refusal(day, drift_triggered_days(client, usecase),
                            usecase.require_monitoring().retraining.cooldown_days)


def evaluate_version(client: MlflowClient, repository: Repository, usecase: UseCase, settings: RunSettings,
                     version: str | None, data: DataRef, tags: dict[str, str], code_version: str
                     ) -> tuple[LoggedRun, Evaluation]:
    """Score ``version`` (default: the champion) on the run's holdout and log an evaluation run."""
    model_name = registered_model(usecase)
    version = version or alias_version(client, model_name, Alias.CHAMPION)
    if not version:
        raise TrainingInputError(f"{model_name} has no '{Alias.CHAMPION}' alias; name the version to evaluate")
    if not has_model_version(client, model_name, version):
        raise TrainingInputError(f"parameter 'evaluate_model_version': {model_name} has no version {version!r}")
    holdout = read_holdout(repository, usecase, data.commit_id, settings)
    _, evaluation = score_version(client, usecase, version, holdout, settings)
    logged = log_evaluation_run(client, usecase=usecase, settings=settings, model_version=version,
                                evaluation=evaluation, holdout=holdout, data=data, tags=tags,
                                code_version=code_version)
    return logged, evaluation

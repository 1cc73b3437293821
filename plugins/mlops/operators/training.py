"""Operators of ``train_<use case>``: pin the data commit -> train, log and register -> evaluation gate.

The operators wire Airflow to the plain functions of ``include.training.trainer``, ``include.training.tracking``
and ``include.training.gate``; heavy libraries are imported inside ``execute``.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from mlops.links import LakeFSLink, MlflowModelLink, MlflowRunLink, push_link


class TrainingConfigError(AirflowFailException):
    """The run's parameters or the use case's training settings are invalid (never retried)."""


class TrainingOperator(BaseOperator):
    """Shared wiring: the use case, its lakeFS repository and the MLflow tracking server."""

    def __init__(self, *, usecase: str, lakefs_conn_id: str = LakeFSHook.default_conn_name,
                 mlflow_conn_id: str = MlflowHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usecase = usecase
        self.lakefs_conn_id = lakefs_conn_id
        self.mlflow_conn_id = mlflow_conn_id

    def usecase_config(self) -> Any:
        from include.common.usecase import load_usecase

        usecase = load_usecase(self.usecase)
        if usecase.training is None:
            raise TrainingConfigError(f"use case {self.usecase!r} has no 'training' section")
        return usecase

    def lakefs(self, usecase: Any) -> LakeFSHook:
        return LakeFSHook(self.lakefs_conn_id, repository=usecase.lakefs_repository)

    def tracking_uri(self) -> str:
        return MlflowHook(self.mlflow_conn_id).tracking_uri

    def skip(self, reason: str) -> NoReturn:
        """Skip this task (and what depends on it), saying why in the task log."""
        self.log.warning("skipping: %s", reason)
        raise AirflowSkipException(reason)



def data_ref(hook: LakeFSHook, usecase: Any, commit_id: str) -> Any:
    """The use case's curated dataset at ``commit_id``, as MLflow records it."""
    from include.training.tracking import DataRef

    return DataRef(usecase.lakefs_repository, commit_id, usecase.dataset_prefix, hook.endpoint,
                   hook.commit_url(commit_id))


def push_mlflow_links(context: Any, logged: Any, tracking_uri: str) -> None:
    """The task's extra links to its MLflow run and model version."""
    push_link(context, MlflowRunLink, logged.run_url(tracking_uri))
    push_link(context, MlflowModelLink, logged.model_url(tracking_uri))


def read_days(hook: LakeFSHook, usecase: Any, commit_id: str, first: date, last: date) -> Any:
    """The curated partitions from ``first`` to ``last`` as they are at ``commit_id``, as one frame."""
    days = [day for day in hook.partition_days(commit_id, usecase.dataset_prefix, usecase.partition_column)
            if first <= day <= last]
    if not days:
        raise ValueError(f"{usecase.name}: no curated partitions from {first} to {last} at lakeFS commit "
                         f"{commit_id} ({hook.commit_url(commit_id)})")
    hook.log.info("reading %d partitions (%s to %s) at commit %s", len(days), days[0], days[-1], commit_id)
    return hook.read_partitions(commit_id, [usecase.partition_path(day) for day in days])


def resolve_reference(hook: LakeFSHook, reference: str) -> str:
    """The commit id of a branch, tag or commit; an unknown one is a configuration error (no retry)."""
    from lakefs.exceptions import NotFoundException

    try:
        return hook.resolve_commit(reference)
    except NotFoundException:
        raise TrainingConfigError(f"lakeFS has no reference {reference!r} in repository {hook.repository_id!r} "
                                  "(check the data_commit parameter; if the repository itself is missing, "
                                  "load data with the use case's ETL first)") from None


def triggering_events(context: Any) -> list[Any]:
    """Every asset event behind an asset-triggered run (there may be several per run), oldest first."""
    accessor = context.get("triggering_asset_events") or {}
    events = [event for asset_events in accessor.values() for event in asset_events]
    return sorted(events, key=lambda event: event.timestamp)


def from_backfill(event: Any) -> bool:
    extra = event.extra or {}
    return extra.get("run_type") == "backfill" or str(event.source_run_id or "").startswith("backfill__")


class PinTrainingDataOperator(TrainingOperator):
    """Resolve the data a run trains on to one lakeFS commit and a window of partition days.

    The commit is the ``data_commit`` parameter, else the newest triggering Asset event's commit,
    else ``main``'s head, resolved once here and passed on. An asset-triggered run whose events all
    come from backfills is skipped (a history load must not start one training per day).
    """

    operator_extra_links = (LakeFSLink(),)

    def execute(self, context: Any) -> dict[str, Any]:
        from include.training.trainer import training_window

        usecase = self.usecase_config()
        params = context["params"]
        events = triggering_events(context)
        if events and all(from_backfill(event) for event in events):
            self.skip(f"all {len(events)} triggering asset events come from backfills: no training "
                      "(trigger one manually or wait for the weekly schedule)")
        event_commit = next((e.extra.get("commit_id") for e in reversed(events) if (e.extra or {}).get("commit_id")),
                            None)
        reference = params.get("data_commit") or event_commit or "main"
        hook = self.lakefs(usecase)
        commit_id = resolve_reference(hook, reference)
        available = hook.partition_days(commit_id, usecase.dataset_prefix, usecase.partition_column)
        window_end = date.fromisoformat(params["window_end"]) if params.get("window_end") else None
        try:
            days = training_window(available, int(params["window_days"]), window_end)
        except ValueError as error:
            raise ValueError(f"{usecase.name} at lakeFS commit {commit_id} ({reference}): {error}") from None
        push_link(context, LakeFSLink, hook.commit_url(commit_id))
        needed = usecase.training.holdout_days + usecase.training.min_train_days
        if len(days) < needed:
            problem = (f"{usecase.name} at lakeFS commit {commit_id} has {len(days)} partition days in the window "
                       f"({days[0]} to {days[-1]}); training needs at least {needed} "
                       f"({usecase.training.min_train_days} to train + {usecase.training.holdout_days} held out)")
            if events:
                self.skip(f"{problem}: no training yet")
            raise TrainingConfigError(f"{problem}: load more days with the ETL (a backfill) or widen window_days")
        self.log.info("training data: %s@%s (%s), %d days %s to %s", usecase.lakefs_repository, commit_id,
                      reference, len(days), days[0], days[-1])
        return {"repository": usecase.lakefs_repository, "commit_id": commit_id, "reference": reference,
                "window_start": days[0].isoformat(), "window_end": days[-1].isoformat(), "days": len(days),
                "asset_events": len(events)}


def run_settings_from(usecase: Any, params: dict[str, Any], pinned: dict[str, Any]) -> Any:
    """The run's settings: the use case's defaults, overridden by the run's parameters."""
    from include.training.modeling import check_hyperparameters
    from include.training.trainer import RunSettings

    training = usecase.training
    family = params.get("model_family") or training.family
    hyperparameters = {**training.hyperparameters.get(family, {}), **(params.get("hyperparameters") or {})}
    try:
        check_hyperparameters(family, usecase.task, hyperparameters)
    except ValueError as error:
        raise TrainingConfigError(str(error)) from None
    return RunSettings(
        usecase=usecase.name, window_start=date.fromisoformat(pinned["window_start"]),
        window_end=date.fromisoformat(pinned["window_end"]), holdout_days=training.holdout_days,
        family=family, hyperparameters=hyperparameters, seed=int(params.get("seed", training.seed)),
        decision_threshold=training.decision_threshold, shuffle_labels=bool(params.get("shuffle_labels")))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_and_log(usecase: Any, settings: Any, frame: Any, data: Any, tags: dict[str, str], revision: str,
                  tracking_uri: str) -> Any:
    """Train, evaluate and log one run (with its fit time and peak memory); return the ``LoggedRun``."""
    import logging

    from include.training.tracking import log_training
    from include.training.trainer import train

    started = time.perf_counter()
    trained = train(frame, usecase, settings)
    seconds = time.perf_counter() - started
    logging.getLogger(__name__).info("trained on %d rows in %.1f s; holdout metrics %s", trained.train_rows,
                                     seconds, trained.evaluation.metrics)
    return log_training(tracking_uri=tracking_uri, usecase=usecase, settings=settings, trained=trained, data=data,
                        tags=tags, code_version=revision,
                        resources={"resources.fit_evaluate_seconds": seconds, "resources.peak_rss_mb": peak_rss_mb()})


def holdout_window(settings: Any) -> tuple[date, date]:
    """The held-out days of a run: its last ``holdout_days`` days (as ``include.training.modeling.time_split``)."""
    return settings.window_end - timedelta(days=settings.holdout_days - 1), settings.window_end


def gate_decision(hook: LakeFSHook, usecase: Any, settings: Any, logged: Any, tracking_uri: str,
                  commit_id: str) -> dict[str, Any]:
    """Score the challenger and the champion (if any) on the same holdout; return the decision document."""
    from include.training.gate import GateConfig, decision_document, evaluate_gate
    from include.training.tracking import CHAMPION, alias_version, load_model
    from include.training.trainer import evaluate

    holdout_start, holdout_end = holdout_window(settings)
    holdout = read_days(hook, usecase, commit_id, holdout_start, holdout_end)
    threshold = settings.decision_threshold
    ours = evaluate(load_model(tracking_uri, logged.model_name, logged.model_version), holdout, usecase, threshold)
    champion_version = alias_version(tracking_uri, logged.model_name, CHAMPION)
    theirs = None
    if champion_version is not None:
        theirs = evaluate(load_model(tracking_uri, logged.model_name, champion_version), holdout, usecase, threshold)
    config = GateConfig(**usecase.training.gate.model_dump())
    decision = evaluate_gate(ours.metrics, ours.slices, config, theirs.metrics if theirs else None,
                             theirs.slices if theirs else None)
    return decision_document(
        decision, config,
        {"model_version": logged.model_version, "run_id": logged.run_id, "metrics": ours.metrics,
         "slices": ours.slices},
        {"model_version": champion_version, "metrics": theirs.metrics, "slices": theirs.slices} if theirs else None,
        {"repository": usecase.lakefs_repository, "commit_id": commit_id,
         "holdout": f"{holdout_start} to {holdout_end}", "rows": int(ours.metrics["rows"])})


class TrainModelOperator(TrainingOperator):
    """Train on the pinned data, log everything to MLflow and register a new model version.

    With ``evaluate_only`` the run trains nothing: it scores the champion (or the version named by
    ``evaluate_model_version``) on the holdout and logs an evaluation run. A retry of a task whose
    MLflow run already finished reuses that run instead of registering a duplicate version.
    """

    template_fields: Sequence[str] = ("pinned",)
    operator_extra_links = (MlflowRunLink(), MlflowModelLink())

    def __init__(self, *, pinned: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pinned = pinned

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.lineage import code_version
        from include.training.tracking import find_finished_run
        from mlops.run_context import metadata_from_context

        usecase = self.usecase_config()
        params = context["params"]
        settings = run_settings_from(usecase, params, self.pinned)
        tracking_uri = self.tracking_uri()
        tags = {key: value for key, value in metadata_from_context(context).items() if key != "code_version"}
        identity = {"airflow_run_id": tags["airflow_run_id"], "airflow_task_id": tags["airflow_task_id"]}
        hook = self.lakefs(usecase)
        data = data_ref(hook, usecase, self.pinned["commit_id"])
        if params.get("evaluate_only"):
            return self.evaluate_only(context, usecase, settings, hook, data, tags, tracking_uri)
        logged = find_finished_run(tracking_uri, usecase, {**identity, "mlops.kind": "training"})
        if logged is not None and logged.model_version:
            self.log.info("this task already logged run %s (version %s): reusing it", logged.run_id,
                          logged.model_version)
        else:
            frame = read_days(hook, usecase, data.commit_id, settings.window_start, settings.window_end)
            logged = train_and_log(usecase, settings, frame, data, tags, code_version(), tracking_uri)
        push_mlflow_links(context, logged, tracking_uri)
        self.log.info("registered %s version %s: %s", logged.model_name, logged.model_version,
                      logged.model_url(tracking_uri))
        return {"evaluate_only": False, "run_id": logged.run_id, "experiment_id": logged.experiment_id,
                "model_name": logged.model_name, "model_version": logged.model_version,
                "commit_id": data.commit_id, "run_url": logged.run_url(tracking_uri)}

    def evaluate_only(self, context: Any, usecase: Any, settings: Any, hook: LakeFSHook, data: Any,
                      tags: dict[str, str], tracking_uri: str) -> dict[str, Any]:
        from include.common.lineage import code_version
        from include.training.tracking import CHAMPION, alias_version, load_model, log_evaluation_run
        from include.training.trainer import evaluate

        model_name = usecase.training.registered_model
        version = context["params"].get("evaluate_model_version") or alias_version(tracking_uri, model_name, CHAMPION)
        if not version:
            raise TrainingConfigError(f"evaluate_only: {model_name} has no '{CHAMPION}' alias; set "
                                      "'evaluate_model_version' to the version to evaluate")
        holdout = read_days(hook, usecase, data.commit_id, *holdout_window(settings))
        evaluation = evaluate(load_model(tracking_uri, model_name, str(version)), holdout, usecase,
                              settings.decision_threshold)
        logged = log_evaluation_run(tracking_uri=tracking_uri, usecase=usecase, settings=settings,
                                    model_version=str(version), evaluation=evaluation, holdout=holdout, data=data,
                                    tags=tags, code_version=code_version())
        push_mlflow_links(context, logged, tracking_uri)
        self.log.info("evaluated %s version %s: %s", model_name, version, evaluation.metrics)
        return {"evaluate_only": True, "run_id": logged.run_id, "model_version": str(version),
                "metrics": evaluation.metrics}


class EvaluationGateOperator(TrainingOperator):
    """Score the challenger and the current champion on the same holdout and decide.

    Pass: the version gets the alias ``challenger`` and the task emits its outlet Asset event.
    Reject (a normal outcome): the decision is recorded, a notification is sent, and the task is
    skipped, so nothing downstream promotes the model. The ``champion`` alias is never touched.
    """

    template_fields: Sequence[str] = ("pinned", "trained")
    operator_extra_links = (MlflowRunLink(), MlflowModelLink())

    def __init__(self, *, pinned: Any, trained: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pinned = pinned
        self.trained = trained

    def execute(self, context: Any) -> dict[str, Any]:
        from include.training.tracking import CHALLENGER, LoggedRun, log_decision, run_settings, set_alias

        if self.trained.get("evaluate_only"):
            self.skip("evaluate-only run: there is no challenger to gate")
        usecase = self.usecase_config()
        tracking_uri = self.tracking_uri()
        logged = LoggedRun(self.trained["run_id"], self.trained["experiment_id"], self.trained["model_name"],
                           self.trained["model_version"])
        push_mlflow_links(context, logged, tracking_uri)
        settings = run_settings(tracking_uri, logged.run_id)
        decision = gate_decision(self.lakefs(usecase), usecase, settings, logged, tracking_uri,
                                 self.pinned["commit_id"])
        log_decision(tracking_uri, logged, decision)
        verdict = (f"{logged.model_name} version {logged.model_version}: {decision['verdict'].upper()} "
                   f"({len(decision['checks'])} checks, champion: {self.champion_label(decision)})")
        self.log.info("gate decision %s\n%s", verdict, "\n".join(
            f"  [{'PASS' if c['passed'] else 'FAIL' if c['passed'] is False else 'info'}] {c['name']}: {c['detail']}"
            for c in decision["checks"]))
        if decision["verdict"] != "pass":
            self.notify_rejection(context, verdict, decision, logged.run_url(tracking_uri))
            self.skip(f"challenger rejected, promotion skipped: {'; '.join(decision['reasons'])}")
        set_alias(tracking_uri, logged.model_name, CHALLENGER, str(logged.model_version))
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {"model_name": logged.model_name,
                                                     "model_version": logged.model_version, "run_id": logged.run_id}
        return {"verdict": "pass", "model_name": logged.model_name, "model_version": logged.model_version}

    @staticmethod
    def champion_label(decision: dict[str, Any]) -> str:
        champion = decision["champion"]
        return f"version {champion['model_version']}" if champion else "none yet, value thresholds alone decide"

    def notify_rejection(self, context: Any, verdict: str, decision: dict[str, Any], run_url: str) -> None:
        from mlops.notifications.failure import send_alert

        ti = context["ti"]
        text = "\n".join([
            verdict, f"DAG: {ti.dag_id}", f"Run: {ti.run_id}", f"MLflow run: {run_url}", f"Log: {ti.log_url}", "",
            "Failed checks:", *(f"- {reason}" for reason in decision["reasons"]), "",
            "Aliases are unchanged; downstream promotion is skipped."])
        send_alert(f"[Airflow] {ti.dag_id}: challenger rejected by the evaluation gate", text)

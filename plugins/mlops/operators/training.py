"""Operators of ``train_<use case>``: pin the data, then train -> evaluation gate, or evaluate only.

Each wires Airflow to ``include.training.service`` with clients from the hooks; inputs are templated arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from mlops.links import LakeFSLink, MlflowModelLink, MlflowRunLink, push_link
from mlops.operators.base import InputError, UseCaseOperator, as_bool, drift_days, optional_text, triggering_events

if TYPE_CHECKING:
    from include.common.usecase import UseCase
    from include.training.tracking import DataRef, LoggedRun
    from include.training.trainer import RunSettings


class TrainingOperator(UseCaseOperator):
    """Training-stage wiring: the MLflow connection and the links to what a task logged."""

    def __init__(self, *, mlflow_conn_id: str = MlflowHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mlflow_conn_id = mlflow_conn_id

    def mlflow(self) -> MlflowHook:
        return MlflowHook(self.mlflow_conn_id)

    @staticmethod
    def data_ref(hook: LakeFSHook, usecase: UseCase, commit_id: str) -> DataRef:
        """The use case's curated dataset at ``commit_id``, as MLflow records it."""
        from include.training.tracking import DataRef

        return DataRef(usecase.lakefs_repository, commit_id, usecase.dataset_prefix, hook.endpoint,
                       hook.commit_url(commit_id))

    def run_tags(self, context: Any) -> dict[str, str]:
        """The run's lineage for MLflow tags (+ ``mlops.trigger=drift``, ``drift_day`` when drift started it)."""
        from include.common.metadata import RunKey, TagKey
        from mlops.run_context import metadata_from_context

        tags = {key: value for key, value in metadata_from_context(context).items() if key != RunKey.CODE_VERSION}
        drifted = drift_days(triggering_events(context), self.usecase)
        return {**tags, TagKey.TRIGGER: "drift", TagKey.DRIFT_DAY: drifted[-1].isoformat()} if drifted else tags

    def push_mlflow_links(self, context: Any, logged: LoggedRun, ui_url: str) -> None:
        push_link(context, MlflowRunLink, logged.run_url(ui_url))
        push_link(context, MlflowModelLink, logged.model_url(ui_url))


class PinTrainingDataOperator(TrainingOperator):
    """Resolve the data a run trains on to one lakeFS commit and a window of partition days.

    The commit is ``data_commit``, else the newest triggering Asset event's commit, else ``main``'s
    head. An asset-triggered run whose events all come from backfills, or whose data is still too
    short, is skipped (saying why); a manual run with too few days fails, naming the fix.
    """

    template_fields: Sequence[str] = ("window_days", "window_end", "data_commit")
    operator_extra_links = (LakeFSLink(),)

    def __init__(self, *, window_days: Any, window_end: Any = None, data_commit: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window_days, self.window_end, self.data_commit = window_days, window_end, data_commit

    def execute(self, context: Any) -> dict[str, Any]:
        from lakefs.exceptions import BadRequestException, NotFoundException

        from include.common.datasets import partition_days
        from include.common.metadata import AssetExtra
        from include.training import service
        from include.training.service import PinnedData, TooFewDaysError, TrainingInputError, pin_window

        usecase = self.load_usecase()
        events = self.live_asset_events(context, "no training (trigger one manually or wait for the schedule)")
        drifted = drift_days(events, usecase.name)  # started by drift alone: re-check the cool-down (runs are serial)
        if drifted and len(drifted) == len(events) and (
                refusal := service.drift_cooldown_refusal(self.mlflow().get_conn(), usecase, drifted[-1])):
            self.skip(f"drift on {drifted[-1]} requested a retraining, but {refusal}")
        event_commit = next((e.extra[AssetExtra.COMMIT_ID] for e in reversed(events)
                             if (e.extra or {}).get(AssetExtra.COMMIT_ID)), None)
        reference = optional_text(self.data_commit) or event_commit or "main"
        hook = self.lakefs(usecase)
        try:
            commit_id = hook.resolve_commit(reference)
        except (NotFoundException, BadRequestException):
            raise InputError(f"lakeFS has no reference {reference!r} in repository {hook.repository_id!r} (check "
                             "the data_commit parameter; if the repository itself is missing, load data with the "
                             "use case's ETL first)") from None
        push_link(context, LakeFSLink, hook.commit_url(commit_id))
        window_end = optional_text(self.window_end)
        try:
            days = pin_window(usecase, partition_days(hook.repository(), commit_id, usecase), int(self.window_days),
                              date.fromisoformat(window_end) if window_end else None)
        except TooFewDaysError as error:
            problem = f"{usecase.name} at lakeFS commit {commit_id}: {error}"
            if events:
                self.skip(f"{problem}: no training yet")
            raise InputError(f"{problem}: load more days with the ETL (a backfill) or widen window_days") from None
        except TrainingInputError as error:
            raise InputError(f"{usecase.name} at lakeFS commit {commit_id} ({reference}): {error}") from None
        self.log.info("training data: %s@%s (%s), %d days %s to %s", usecase.lakefs_repository, commit_id,
                      reference, len(days), days[0], days[-1])
        pinned = PinnedData(usecase.lakefs_repository, commit_id, reference, days[0], days[-1], len(days))
        return pinned.to_dict()


class ModelRunOperator(TrainingOperator):
    """A run on the pinned data with the run's model settings (family, hyperparameters, seed)."""

    template_fields: Sequence[str] = ("pinned", "model_family", "hyperparameters", "seed", "shuffle_labels")

    def __init__(self, *, pinned: Any, model_family: Any = None, hyperparameters: Any = None, seed: Any = None,
                 shuffle_labels: Any = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pinned, self.model_family, self.hyperparameters = pinned, model_family, hyperparameters
        self.seed, self.shuffle_labels = seed, shuffle_labels

    def settings(self, usecase: UseCase) -> RunSettings:
        from include.training.service import PinnedData, TrainingInputError, parse_hyperparameters, run_settings_for

        seed = optional_text(self.seed)
        try:
            return run_settings_for(usecase, PinnedData.from_dict(self.pinned), family=optional_text(self.model_family),
                                    hyperparameters=parse_hyperparameters(optional_text(self.hyperparameters)),
                                    seed=int(seed) if seed else None, shuffle_labels=as_bool(self.shuffle_labels))
        except TrainingInputError as error:
            raise InputError(str(error)) from None


class TrainModelOperator(ModelRunOperator):
    """Train on the pinned data, log everything to MLflow and register a new model version.

    A retry of a task whose MLflow run already finished reuses that run instead of registering a
    duplicate version; runs an earlier try left unfinished are marked FAILED.
    """

    operator_extra_links = (MlflowRunLink(), MlflowModelLink())

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.lineage import code_version
        from include.common.metadata import RunKey, RunKind, TagKey
        from include.training.service import read_window, train_and_log
        from include.training.tracking import fail_unfinished_runs, find_finished_run

        usecase = self.load_usecase()
        settings = self.settings(usecase)
        mlflow = self.mlflow()
        client = mlflow.get_conn()
        tags = self.run_tags(context)
        identity = {RunKey.RUN_ID: tags[RunKey.RUN_ID], RunKey.TASK_ID: tags[RunKey.TASK_ID]}
        hook = self.lakefs(usecase)
        data = self.data_ref(hook, usecase, self.pinned["commit_id"])
        logged = find_finished_run(client, usecase, {**identity, TagKey.KIND: RunKind.TRAINING})
        if logged is not None and logged.model_version:
            self.log.info("this task already logged run %s (version %s): reusing it", logged.run_id,
                          logged.model_version)
        else:
            abandoned = fail_unfinished_runs(client, usecase, identity)
            if abandoned:
                self.log.warning("marked runs of an earlier try FAILED: %s", abandoned)
            frame = read_window(hook.repository(), usecase, data.commit_id, settings)
            logged = train_and_log(client, usecase, settings, frame, data, tags, code_version())
        self.push_mlflow_links(context, logged, mlflow.ui_url)
        self.log.info("registered %s version %s: %s", logged.model_name, logged.model_version,
                      logged.model_url(mlflow.ui_url))
        return {"run_id": logged.run_id, "experiment_id": logged.experiment_id, "model_name": logged.model_name,
                "model_version": logged.model_version, "commit_id": data.commit_id,
                "run_url": logged.run_url(mlflow.ui_url)}


class EvaluateModelOperator(ModelRunOperator):
    """Evaluate-only runs: score an existing version (default: the champion) on the pinned holdout
    and log an evaluation run; nothing is trained or registered."""

    template_fields: Sequence[str] = (*ModelRunOperator.template_fields, "model_version")
    operator_extra_links = (MlflowRunLink(),)

    def __init__(self, *, model_version: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_version = model_version

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.lineage import code_version
        from include.training.service import TrainingInputError, evaluate_version

        usecase = self.load_usecase()
        settings = self.settings(usecase)
        mlflow = self.mlflow()
        hook = self.lakefs(usecase)
        try:
            logged, evaluation = evaluate_version(mlflow.get_conn(), hook.repository(), usecase, settings,
                                                  optional_text(self.model_version),
                                                  self.data_ref(hook, usecase, self.pinned["commit_id"]),
                                                  self.run_tags(context), code_version())
        except TrainingInputError as error:
            raise InputError(f"evaluate only: {error}") from None
        push_link(context, MlflowRunLink, logged.run_url(mlflow.ui_url))
        self.log.info("evaluated %s version %s: %s", logged.model_name, logged.model_version, evaluation.metrics)
        return {"run_id": logged.run_id, "model_version": logged.model_version, "metrics": evaluation.metrics}


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
        self.pinned, self.trained = pinned, trained

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import Alias, AssetExtra
        from include.common.registry import set_alias
        from include.training.service import gate_decision
        from include.training.tracking import LoggedRun, log_decision, run_settings
        from mlops.notifications.gate import notify_gate_rejection

        usecase = self.load_usecase()
        mlflow = self.mlflow()
        client = mlflow.get_conn()
        logged = LoggedRun(self.trained["run_id"], self.trained["experiment_id"], self.trained["model_name"],
                           self.trained["model_version"])
        self.push_mlflow_links(context, logged, mlflow.ui_url)
        settings = run_settings(client, logged.run_id)
        decision = gate_decision(client, self.lakefs(usecase).repository(), usecase, settings, logged,
                                 self.pinned["commit_id"])
        log_decision(client, logged, decision)
        summary = f"{logged.model_name} {decision.summary()}"
        self.log.info("gate decision %s", summary)
        if not decision.passed:
            notify_gate_rejection(context, verdict=summary.splitlines()[0], reasons=decision.reasons,
                                  mlflow_run_url=logged.run_url(mlflow.ui_url))
            self.skip(f"challenger rejected, promotion skipped: {'; '.join(decision.reasons)}")
        set_alias(client, logged.model_name, Alias.CHALLENGER, str(logged.model_version))
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {AssetExtra.MODEL_NAME: logged.model_name,
                                                     AssetExtra.MODEL_VERSION: logged.model_version,
                                                     AssetExtra.RUN_ID: logged.run_id}
        return {"verdict": decision.verdict, "model_name": logged.model_name, "model_version": logged.model_version}

"""MLflow records of training and evaluation runs, and the model registry calls around them.

A training run holds its parameters and ``run_settings.json``, metrics overall and per slice,
plots, the model card, the lakeFS input datasets (repository + commit), lineage tags, and the
model (signature + input example) registered as a new version of the use case's model.

Every function takes the ``MlflowClient`` it talks through (from ``MlflowHook.get_conn()``):
nothing here sets a process-wide tracking URI or builds a client of its own.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from mlflow.data.dataset_source import DatasetSource

from include.common.metadata import Artifact, RunKind, TagKey
from include.common.metrics import Metrics, SliceMetrics
from include.common.registry import download_model
from include.common.usecase import UseCase
from include.training.gate import GateDecision
from include.training.trainer import Evaluation, RunSettings, TrainedModel

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)
METRIC_KEY_UNSAFE = re.compile(r"[^\w\-. :/]+")
# Types in our own pipelines that skops (MLflow's safe sklearn format) must be told to trust.
SKOPS_TRUSTED_TYPES = ["numpy.dtype", "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
                       "sklearn.tree._tree.Tree"]


class LakeFSDatasetSource(DatasetSource):
    """An MLflow dataset source for a lakeFS path at a pinned commit: ``lakefs://repo/commit/path``."""

    def __init__(self, repository: str, commit_id: str, path: str, endpoint: str = "") -> None:
        self.repository, self.commit_id, self.path, self.endpoint = repository, commit_id, path, endpoint

    @property
    def uri(self) -> str:
        return f"lakefs://{self.repository}/{self.commit_id}/{self.path}"

    @staticmethod
    def _get_source_type() -> str:
        return "lakefs"

    def load(self) -> str:
        """The URI; read the data with ``LakeFSHook`` (or lakectl) at the commit."""
        return self.uri

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        return isinstance(raw_source, str) and raw_source.startswith("lakefs://")

    @classmethod
    def _resolve(cls, raw_source: Any) -> LakeFSDatasetSource:
        repository, commit_id, path = str(raw_source).removeprefix("lakefs://").split("/", 2)
        return cls(repository, commit_id, path)

    def to_dict(self) -> dict[str, Any]:
        return {"uri": self.uri, "repository": self.repository, "commit_id": self.commit_id, "path": self.path,
                "endpoint": self.endpoint}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> LakeFSDatasetSource:
        return cls(source_dict["repository"], source_dict["commit_id"], source_dict["path"],
                   source_dict.get("endpoint", ""))


@dataclass(frozen=True)
class DataRef:
    """The curated data a run read: lakeFS repository, pinned commit, dataset prefix, UI link."""

    repository: str
    commit_id: str
    prefix: str
    endpoint: str
    commit_url: str

    def source(self) -> LakeFSDatasetSource:
        return LakeFSDatasetSource(self.repository, self.commit_id, f"{self.prefix}/", self.endpoint)

    def as_dict(self) -> dict[str, str]:
        return {"repository": self.repository, "commit_id": self.commit_id, "uri": self.source().uri,
                "url": self.commit_url}


@dataclass(frozen=True)
class LoggedRun:
    """A run in the tracking server and the model version it registered (or evaluated)."""

    run_id: str
    experiment_id: str
    model_name: str
    model_version: str | None

    def run_url(self, ui_url: str) -> str:
        return f"{ui_url}/#/experiments/{self.experiment_id}/runs/{self.run_id}"

    def model_url(self, ui_url: str) -> str:
        return f"{ui_url}/#/models/{self.model_name}/versions/{self.model_version}"


@contextmanager
def quiet_skops() -> Iterator[None]:
    """skops audits a model by touching every loaded module; Airflow's deprecated aliases then emit
    ~1,000 FutureWarnings per save or load, which would bury the task log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def experiment_name(usecase: UseCase) -> str:
    return f"train_{usecase.name}"


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of experiment ``name``, created when missing."""
    experiment = client.get_experiment_by_name(name)
    return str(experiment.experiment_id) if experiment else str(client.create_experiment(name))


def metric_key(*parts: str) -> str:
    return ".".join(METRIC_KEY_UNSAFE.sub("_", part) for part in parts)


def flat_metrics(prefix: str, metrics: Metrics, slices: SliceMetrics | None = None) -> dict[str, float]:
    """``holdout.roc_auc`` and ``holdout.slice.origin.JFK.roc_auc`` style keys."""
    flat = {metric_key(prefix, name): value for name, value in metrics.items()}
    for column, values in (slices or {}).items():
        for value, slice_values in values.items():
            flat.update({metric_key(prefix, "slice", column, value, name): v for name, v in slice_values.items()})
    return flat


def find_finished_run(client: MlflowClient, usecase: UseCase, tags: dict[str, str]) -> LoggedRun | None:
    """A finished run of the use case's experiment carrying exactly ``tags`` (a retried task reuses it)."""
    experiment = client.get_experiment_by_name(experiment_name(usecase))
    if experiment is None:
        return None
    query = " and ".join(f"tags.`{key}` = '{value}'" for key, value in sorted(tags.items()))
    runs = client.search_runs([experiment.experiment_id], f"{query} and attributes.status = 'FINISHED'",
                              max_results=1, order_by=["attributes.start_time DESC"])
    if not runs:
        return None
    run = runs[0]
    return LoggedRun(run.info.run_id, experiment.experiment_id, registered_model(usecase),
                     run.data.tags.get(TagKey.REGISTERED_VERSION))


def drift_triggered_days(client: MlflowClient, usecase: UseCase) -> list[date]:
    """Monitored days whose drift started a training run that did not fail (``mlops.trigger=drift``)."""
    experiment = client.get_experiment_by_name(experiment_name(usecase))
    if experiment is None:
        return []
    runs = client.search_runs([experiment.experiment_id], f"tags.`{TagKey.TRIGGER}` = 'drift' and "
                              "attributes.status != 'FAILED'", max_results=1000)
    return sorted(date.fromisoformat(run.data.tags[TagKey.DRIFT_DAY]) for run in runs
                  if run.data.tags.get(TagKey.DRIFT_DAY))


def fail_unfinished_runs(client: MlflowClient, usecase: UseCase, tags: dict[str, str]) -> list[str]:
    """Mark this task's runs that never finished (a crashed earlier try) as FAILED; return their ids.

    A try that died after registering its model but before finishing its run (MLflow or the worker killed
    in between) left a model version no gate will ever judge: those versions are deleted, so a retry that
    registers its own leaves one version per task run, never two.
    """
    experiment = client.get_experiment_by_name(experiment_name(usecase))
    if experiment is None:
        return []
    query = " and ".join(f"tags.`{key}` = '{value}'" for key, value in sorted(tags.items()))
    unfinished = [run for run in client.search_runs([experiment.experiment_id], query)
                  if run.info.status != "FINISHED"]
    marked = [run.info.run_id for run in unfinished if run.info.status == "RUNNING"]
    for run_id in marked:
        client.set_terminated(run_id, "FAILED")
    for run in unfinished:
        for version in client.search_model_versions(f"run_id = '{run.info.run_id}'"):
            log.warning("deleting %s version %s: registered by run %s of an earlier try that never finished",
                        version.name, version.version, run.info.run_id)
            client.delete_model_version(version.name, version.version)
    return marked


@contextmanager
def mlflow_run(client: MlflowClient, experiment: str, name: str, tags: dict[str, str]) -> Iterator[str]:
    """A run that ends FINISHED when the block completes and FAILED when it raises."""
    run_id = str(client.create_run(experiment_id(client, experiment), run_name=name, tags=tags).info.run_id)
    try:
        yield run_id
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    client.set_terminated(run_id, "FINISHED")


def log_values(client: MlflowClient, run_id: str, params: dict[str, str], metrics: dict[str, float]) -> None:
    """Parameters and metrics in batches (the server takes at most 100 params / 1000 metrics per call)."""
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    param_list = [Param(key, str(value)[:6000]) for key, value in params.items()]
    metric_list = [Metric(key, float(value), now, 0) for key, value in metrics.items()]
    for start in range(0, len(param_list), 100):
        client.log_batch(run_id, params=param_list[start:start + 100])
    for start in range(0, len(metric_list), 1000):
        client.log_batch(run_id, metrics=metric_list[start:start + 1000])


def log_evaluation_artifacts(client: MlflowClient, run_id: str, usecase: UseCase, evaluation: Evaluation,
                             threshold: float, importance: dict[str, float] | None = None) -> None:
    """Plots of an evaluation into the run's ``plots/`` folder, and the metrics as JSON."""
    from include.training.reports import classification_plots, importance_plot, regression_plots

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        if usecase.task == "binary_classification":
            classification_plots(evaluation, threshold, path)
        else:
            regression_plots(evaluation, path)
        if importance:
            importance_plot(importance, path)
        client.log_artifacts(run_id, folder, "plots")
    client.log_dict(run_id, {"overall": evaluation.metrics, "slices": evaluation.slices}, Artifact.HOLDOUT_METRICS)


def log_datasets(client: MlflowClient, run_id: str, frames: dict[str, pd.DataFrame], usecase: UseCase,
                 data: DataRef) -> None:
    """Record the frames read from lakeFS as MLflow input datasets (schema, digest, lakeFS source)."""
    from mlflow.data.pandas_dataset import from_pandas
    from mlflow.entities import DatasetInput, InputTag
    from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT

    inputs = []
    for context, frame in frames.items():
        dataset = from_pandas(frame, source=data.source(), targets=usecase.target,
                              name=f"{usecase.name}@{data.commit_id[:12]}-{context}")
        inputs.append(DatasetInput(dataset._to_mlflow_entity(), tags=[InputTag(MLFLOW_DATASET_CONTEXT, context)]))
    client.log_inputs(run_id, datasets=inputs)


def lineage_tags(usecase: UseCase, data: DataRef, tags: dict[str, str], code_version: str, kind: str
                 ) -> dict[str, str]:
    return {**tags, TagKey.LAKEFS_REPOSITORY: data.repository, TagKey.LAKEFS_COMMIT: data.commit_id,
            TagKey.LAKEFS_URI: data.source().uri, TagKey.LAKEFS_COMMIT_URL: data.commit_url,
            TagKey.CODE_VERSION: code_version, TagKey.GIT_COMMIT: code_version, TagKey.USECASE: usecase.name,
            TagKey.KIND: kind}


def registered_model(usecase: UseCase) -> str:
    return usecase.require_training().registered_model


def log_training(client: MlflowClient, *, usecase: UseCase, settings: RunSettings, trained: TrainedModel,
                 data: DataRef, tags: dict[str, str], code_version: str,
                 resources: dict[str, float] | None = None) -> LoggedRun:
    """One MLflow run with everything a training records, and the model registered as a new version."""
    from include.training.reports import model_card

    model_name = registered_model(usecase)
    split = trained.split
    split_days = {"train": f"{split.train_days[0]} to {split.train_days[1]}",
                  "holdout": f"{split.holdout_days[0]} to {split.holdout_days[1]}"}
    run_tags = lineage_tags(usecase, data, tags, code_version, RunKind.TRAINING)
    if settings.shuffle_labels:
        run_tags[TagKey.SANITY_CHECK] = "shuffled_labels"
    name = f"{usecase.name}-{settings.family}-{data.commit_id[:8]}"
    with mlflow_run(client, experiment_name(usecase), name, run_tags) as run_id:
        evaluation = trained.evaluation
        log_values(client, run_id,
                   {**settings.mlflow_params(usecase.task), "features": ",".join(usecase.features),
                    "train_days": split_days["train"], "holdout_days_range": split_days["holdout"],
                    "train_rows": str(trained.train_rows), "lakefs_commit": data.commit_id},
                   {**flat_metrics("holdout", evaluation.metrics, evaluation.slices),
                    **flat_metrics("train", trained.train_metrics), **(resources or {})})
        client.log_text(run_id, settings.to_json(), Artifact.RUN_SETTINGS)
        log_datasets(client, run_id, {"training": split.train, "holdout": split.holdout}, usecase, data)
        log_evaluation_artifacts(client, run_id, usecase, evaluation, settings.decision_threshold, trained.importance)
        client.log_dict(run_id, trained.importance, Artifact.FEATURE_IMPORTANCE)
        log_holdout_sample(client, run_id, usecase, split.holdout, settings.seed)
        card = model_card(usecase=usecase, settings=settings, data=data.as_dict(), split_days=split_days,
                          train_rows=trained.train_rows, evaluation=evaluation, train_metrics=trained.train_metrics,
                          importance=trained.importance, code_version=code_version, run_id=run_id)
        client.log_text(run_id, card, Artifact.MODEL_CARD)
        version = register_model(client, run_id, model_name, trained, usecase, {**run_tags, TagKey.RUN_ID: run_id},
                                 card)
        client.set_tag(run_id, TagKey.REGISTERED_VERSION, version)
    experiment = experiment_id(client, experiment_name(usecase))
    return LoggedRun(run_id, experiment, model_name, version)


def log_holdout_sample(client: MlflowClient, run_id: str, usecase: UseCase, holdout: pd.DataFrame, seed: int,
                       rows: int = 1000) -> None:
    """Up to ``rows`` held-out feature rows (a seeded sample): deployment replays them through the
    served model and the registered one, which must agree."""
    sample = holdout[usecase.features].sample(n=min(rows, len(holdout)), random_state=seed)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(Artifact.HOLDOUT_SAMPLE).name
        sample.reset_index(drop=True).to_parquet(path, index=False)
        client.log_artifact(run_id, str(path), str(Path(Artifact.HOLDOUT_SAMPLE).parent))


def register_model(client: MlflowClient, run_id: str, model_name: str, trained: TrainedModel, usecase: UseCase,
                   tags: dict[str, str], description: str) -> str:
    """Save the pipeline (skops, signature, input example, pinned requirements) as the run's logged model
    and register it as a new version of ``model_name``; return the version."""
    import mlflow.sklearn
    from mlflow.exceptions import MlflowException
    from mlflow.models import infer_signature

    from include.training.modeling import predict

    example = trained.split.train[usecase.features].head(5)
    signature = infer_signature(example, predict(trained.pipeline, example, usecase.task))
    experiment = experiment_id(client, experiment_name(usecase))
    logged_model = client.create_logged_model(experiment, name="model", source_run_id=run_id, model_type="sklearn")
    with tempfile.TemporaryDirectory() as folder, quiet_skops():
        local = Path(folder) / "model"
        mlflow.sklearn.save_model(trained.pipeline, str(local), serialization_format="skops",
                                  skops_trusted_types=SKOPS_TRUSTED_TYPES, signature=signature,
                                  input_example=example, pip_requirements=model_requirements())
        client.log_model_artifacts(logged_model.model_id, str(local))
    client.finalize_logged_model(logged_model.model_id, "READY")
    try:
        client.create_registered_model(model_name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    version = client.create_model_version(model_name, f"models:/{logged_model.model_id}", run_id=run_id,
                                          model_id=logged_model.model_id, description=description,
                                          tags={k: v[:5000] for k, v in tags.items() if not k.startswith("mlflow.")})
    return str(version.version)


def log_evaluation_run(client: MlflowClient, *, usecase: UseCase, settings: RunSettings, model_version: str,
                       evaluation: Evaluation, holdout: pd.DataFrame, data: DataRef, tags: dict[str, str],
                       code_version: str) -> LoggedRun:
    """An evaluation-only run: an existing model version scored on the holdout of pinned data."""
    model_name = registered_model(usecase)
    run_tags = {**lineage_tags(usecase, data, tags, code_version, RunKind.EVALUATION),
                TagKey.EVALUATED_VERSION: model_version}
    name = f"evaluate-{model_name}-v{model_version}-{data.commit_id[:8]}"
    with mlflow_run(client, experiment_name(usecase), name, run_tags) as run_id:
        log_values(client, run_id, {**settings.mlflow_params(usecase.task),
                                    "evaluated_model": f"models:/{model_name}/{model_version}"},
                   flat_metrics("holdout", evaluation.metrics, evaluation.slices))
        log_datasets(client, run_id, {"holdout": holdout}, usecase, data)
        log_evaluation_artifacts(client, run_id, usecase, evaluation, settings.decision_threshold)
    return LoggedRun(run_id, experiment_id(client, experiment_name(usecase)), model_name, model_version)


def model_requirements() -> list[str]:
    """What serving the model needs, pinned to this environment (MLflow's own inference takes ~12 s)."""
    import numpy as np
    from mlflow.sklearn import get_default_pip_requirements

    return [*get_default_pip_requirements(include_skops=True), f"pandas=={pd.__version__}",
            f"numpy=={np.__version__}"]


def tag_model_version(client: MlflowClient, logged: LoggedRun, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if not key.startswith("mlflow."):
            client.set_model_version_tag(logged.model_name, str(logged.model_version), key, value[:5000])


def load_model(client: MlflowClient, model_name: str, version: str) -> Any:
    """The registered pipeline ``model_name`` version ``version``, downloaded through ``client``'s server."""
    import mlflow.sklearn

    with tempfile.TemporaryDirectory() as folder, quiet_skops():
        return mlflow.sklearn.load_model(str(download_model(client, model_name, version, Path(folder))))


def run_settings(client: MlflowClient, run_id: str) -> RunSettings:
    with tempfile.TemporaryDirectory() as folder:
        return RunSettings.from_json(Path(client.download_artifacts(run_id, Artifact.RUN_SETTINGS, folder)).read_text())


def log_decision(client: MlflowClient, logged: LoggedRun, decision: GateDecision) -> None:
    """The gate's decision: JSON artifact and verdict metric on the challenger's run, tags on its version."""
    client.log_dict(logged.run_id, decision.to_dict(), Artifact.GATE_DECISION)
    client.log_metric(logged.run_id, "gate.passed", 1.0 if decision.passed else 0.0)
    client.set_tag(logged.run_id, TagKey.GATE_VERDICT, decision.verdict)
    tag_model_version(client, logged, {
        TagKey.GATE_VERDICT: decision.verdict, TagKey.GATE_REASONS: json.dumps(decision.reasons),
        TagKey.GATE_DECISION: f"runs:/{logged.run_id}/{Artifact.GATE_DECISION}"})


def read_decision(client: MlflowClient, run_id: str) -> GateDecision:
    with tempfile.TemporaryDirectory() as folder:
        document = json.loads(Path(client.download_artifacts(run_id, Artifact.GATE_DECISION, folder)).read_text())
    return GateDecision.from_dict(document)


def register_source() -> None:
    """Let MLflow resolve ``lakefs://`` dataset sources when it reads them back."""
    from mlflow.data.dataset_source_registry import register_dataset_source

    register_dataset_source(LakeFSDatasetSource)  # type: ignore[arg-type]  # the registry takes classes


register_source()

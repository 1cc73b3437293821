"""MLflow records of training and evaluation runs, and the model registry calls around them.

A training run holds its parameters and ``run_settings.json``, metrics overall and per slice,
plots, the model card, the lakeFS input datasets (repository + commit), lineage tags, and the
model (signature + input example) registered as a new version of the use case's model.
"""

from __future__ import annotations

import json
import re
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.data.dataset_source import DatasetSource

from include.training.gate import Metrics, SliceMetrics
from include.training.trainer import Evaluation, RunSettings, TrainedModel

METRIC_KEY_UNSAFE = re.compile(r"[^\w\-. :/]+")
CHAMPION, CHALLENGER = "champion", "challenger"
SETTINGS_ARTIFACT = "run_settings.json"
DECISION_ARTIFACT = "gate/decision.json"
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
    run_id: str
    experiment_id: str
    model_name: str
    model_version: str | None

    def run_url(self, tracking_uri: str) -> str:
        return f"{tracking_uri}/#/experiments/{self.experiment_id}/runs/{self.run_id}"

    def model_url(self, tracking_uri: str) -> str:
        return f"{tracking_uri}/#/models/{self.model_name}/versions/{self.model_version}"


@contextmanager
def quiet_skops() -> Iterator[None]:
    """skops audits a model by touching every loaded module; Airflow's deprecated aliases then emit
    ~1,000 FutureWarnings per save or load, which would bury the task log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        yield


def experiment_name(usecase: Any) -> str:
    return f"train_{usecase.name}"


def metric_key(*parts: str) -> str:
    return ".".join(METRIC_KEY_UNSAFE.sub("_", part) for part in parts)


def flat_metrics(prefix: str, metrics: Metrics, slices: SliceMetrics | None = None) -> dict[str, float]:
    """``holdout.roc_auc`` and ``holdout.slice.origin.JFK.roc_auc`` style keys."""
    flat = {metric_key(prefix, name): value for name, value in metrics.items()}
    for column, values in (slices or {}).items():
        for value, slice_values in values.items():
            flat.update({metric_key(prefix, "slice", column, value, name): v for name, v in slice_values.items()})
    return flat


def find_finished_run(tracking_uri: str, usecase: Any, tags: dict[str, str]) -> LoggedRun | None:
    """A finished run of this experiment carrying exactly ``tags`` (a retried task reuses it)."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name(usecase))
    if experiment is None:
        return None
    query = " and ".join(f"tags.`{key}` = '{value}'" for key, value in sorted(tags.items()))
    runs = client.search_runs([experiment.experiment_id], f"{query} and attributes.status = 'FINISHED'",
                              max_results=1, order_by=["attributes.start_time DESC"])
    if not runs:
        return None
    run = runs[0]
    version = run.data.tags.get("registered_model_version")
    return LoggedRun(run.info.run_id, experiment.experiment_id, usecase.training.registered_model, version)


def log_evaluation_artifacts(usecase: Any, evaluation: Evaluation, threshold: float,
                             importance: dict[str, float] | None = None) -> None:
    """Plots of an evaluation into the active run's ``plots/`` folder."""
    import mlflow

    from include.training.reports import classification_plots, importance_plot, regression_plots

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        if usecase.task == "binary_classification":
            classification_plots(evaluation, threshold, path)
        else:
            regression_plots(evaluation, path)
        if importance:
            importance_plot(importance, path)
        mlflow.log_artifacts(folder, "plots")
    mlflow.log_dict({"overall": evaluation.metrics, "slices": evaluation.slices}, "metrics/holdout.json")


def log_datasets(frames: dict[str, pd.DataFrame], usecase: Any, data: DataRef) -> None:
    """Record the frames read from lakeFS as MLflow input datasets (schema, digest, lakeFS source)."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    for context, frame in frames.items():
        dataset = from_pandas(frame, source=data.source(), targets=usecase.target,
                                          name=f"{usecase.name}@{data.commit_id[:12]}-{context}")
        mlflow.log_input(dataset, context=context)


def lineage_tags(usecase: Any, data: DataRef, tags: dict[str, str], code_version: str, kind: str) -> dict[str, str]:
    return {**tags, "lakefs_repository": data.repository, "lakefs_commit": data.commit_id,
            "lakefs_uri": data.source().uri, "lakefs_commit_url": data.commit_url, "code_version": code_version,
            "mlflow.source.git.commit": code_version, "usecase": usecase.name, "mlops.kind": kind}


def log_training(*, tracking_uri: str, usecase: Any, settings: RunSettings, trained: TrainedModel,
                 data: DataRef, tags: dict[str, str], code_version: str,
                 resources: dict[str, float] | None = None) -> LoggedRun:
    """One MLflow run with everything the issue asks for, and the model registered as a new version."""
    import mlflow
    from mlflow.models import infer_signature

    from include.training.modeling import predict
    from include.training.reports import model_card

    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.set_experiment(experiment_name(usecase))
    split = trained.split
    split_days = {"train": f"{split.train_days[0]} to {split.train_days[1]}",
                  "holdout": f"{split.holdout_days[0]} to {split.holdout_days[1]}"}
    run_tags = lineage_tags(usecase, data, tags, code_version, "training")
    if settings.shuffle_labels:
        run_tags["sanity_check"] = "shuffled_labels"
    name = f"{usecase.name}-{settings.family}-{data.commit_id[:8]}"
    with mlflow.start_run(run_name=name, tags=run_tags) as run:
        mlflow.log_params({**settings.mlflow_params(usecase.task), "features": ",".join(usecase.features),
                           "train_days": split_days["train"], "holdout_days_range": split_days["holdout"],
                           "train_rows": str(trained.train_rows), "lakefs_commit": data.commit_id})
        mlflow.log_text(settings.to_json(), SETTINGS_ARTIFACT)
        evaluation = trained.evaluation
        mlflow.log_metrics({**flat_metrics("holdout", evaluation.metrics, evaluation.slices),
                            **flat_metrics("train", trained.train_metrics), **(resources or {})})
        log_datasets({"training": split.train, "holdout": split.holdout}, usecase, data)
        log_evaluation_artifacts(usecase, evaluation, settings.decision_threshold, trained.importance)
        mlflow.log_dict(trained.importance, "metrics/feature_importance.json")
        card = model_card(usecase=usecase, settings=settings, data=data.as_dict(), split_days=split_days,
                          train_rows=trained.train_rows, evaluation=evaluation, train_metrics=trained.train_metrics,
                          importance=trained.importance,
                          code_version=code_version, run_id=run.info.run_id)
        mlflow.log_text(card, "model_card.md")
        example = split.train[usecase.features].head(5)
        signature = infer_signature(example, predict(trained.pipeline, example, usecase.task))
        with quiet_skops():
            info = mlflow.sklearn.log_model(trained.pipeline, name="model", signature=signature,
                                            input_example=example,
                                            registered_model_name=usecase.training.registered_model,
                                            skops_trusted_types=SKOPS_TRUSTED_TYPES,
                                            pip_requirements=model_requirements())
        version = str(info.registered_model_version)
        mlflow.set_tag("registered_model_version", version)
    logged = LoggedRun(run.info.run_id, experiment.experiment_id, usecase.training.registered_model, version)
    tag_model_version(tracking_uri, logged, {**run_tags, "run_id": run.info.run_id}, description=card)
    return logged


def log_evaluation_run(*, tracking_uri: str, usecase: Any, settings: RunSettings, model_version: str,
                       evaluation: Evaluation, holdout: pd.DataFrame, data: DataRef, tags: dict[str, str],
                       code_version: str) -> LoggedRun:
    """An evaluation-only run: an existing model version scored on the holdout of pinned data."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    experiment = mlflow.set_experiment(experiment_name(usecase))
    model_name = usecase.training.registered_model
    run_tags = {**lineage_tags(usecase, data, tags, code_version, "evaluation"),
                "evaluated_model_version": model_version}
    name = f"evaluate-{model_name}-v{model_version}-{data.commit_id[:8]}"
    with mlflow.start_run(run_name=name, tags=run_tags) as run:
        mlflow.log_params({**settings.mlflow_params(usecase.task),
                           "evaluated_model": f"models:/{model_name}/{model_version}"})
        mlflow.log_metrics(flat_metrics("holdout", evaluation.metrics, evaluation.slices))
        log_datasets({"holdout": holdout}, usecase, data)
        log_evaluation_artifacts(usecase, evaluation, settings.decision_threshold)
    return LoggedRun(run.info.run_id, experiment.experiment_id, model_name, model_version)


def model_requirements() -> list[str]:
    """What serving the model needs, pinned to this environment (MLflow's own inference takes ~12 s)."""
    import numpy as np
    from mlflow.sklearn import get_default_pip_requirements

    return [*get_default_pip_requirements(include_skops=True), f"pandas=={pd.__version__}",
            f"numpy=={np.__version__}"]


def tag_model_version(tracking_uri: str, logged: LoggedRun, tags: dict[str, str], description: str | None = None
                      ) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    for key, value in tags.items():
        if not key.startswith("mlflow."):
            client.set_model_version_tag(logged.model_name, str(logged.model_version), key, value[:5000])
    if description is not None:
        client.update_model_version(logged.model_name, str(logged.model_version), description=description)


def alias_version(tracking_uri: str, model_name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the alias (or the model) does not exist."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        return str(MlflowClient(tracking_uri).get_model_version_by_alias(model_name, alias).version)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise


def set_alias(tracking_uri: str, model_name: str, alias: str, version: str) -> None:
    from mlflow import MlflowClient

    MlflowClient(tracking_uri).set_registered_model_alias(model_name, alias, version)


def load_model(tracking_uri: str, model_name: str, version: str) -> Any:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    with quiet_skops():
        return mlflow.sklearn.load_model(f"models:/{model_name}/{version}")


def run_settings(tracking_uri: str, run_id: str) -> RunSettings:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    return RunSettings.from_json(mlflow.artifacts.load_text(f"runs:/{run_id}/{SETTINGS_ARTIFACT}"))


def log_decision(tracking_uri: str, logged: LoggedRun, decision: dict[str, Any]) -> None:
    """The gate's decision: JSON artifact and verdict metric on the challenger's run, tags on its version."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri)
    client.log_dict(logged.run_id, decision, DECISION_ARTIFACT)
    client.log_metric(logged.run_id, "gate.passed", 1.0 if decision["verdict"] == "pass" else 0.0)
    client.set_tag(logged.run_id, "gate_verdict", decision["verdict"])
    tag_model_version(tracking_uri, logged, {
        "gate_verdict": decision["verdict"], "gate_reasons": json.dumps(decision["reasons"]),
        "gate_decision": f"runs:/{logged.run_id}/{DECISION_ARTIFACT}"})


def register_source() -> None:
    """Let MLflow resolve ``lakefs://`` dataset sources when it reads them back."""
    from mlflow.data.dataset_source_registry import register_dataset_source

    register_dataset_source(LakeFSDatasetSource)  # type: ignore[arg-type]  # the registry takes classes


register_source()

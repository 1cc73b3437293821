"""The model being watched: the registered model's ``champion`` version and what its training
run recorded (lakeFS repository + commit, the window of partitions, holdout metrics).

Monitoring never imports the training stage: it reads the MLflow contract declared in
``include.common.metadata`` (tags, the ``run_settings.json`` artifact, ``holdout.<metric>``
metrics, the ``champion`` alias). Functions take the ``MlflowClient`` from ``MlflowHook``.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from include.common.metadata import Alias, Artifact, TagKey
from include.common.usecase import UseCase

if TYPE_CHECKING:
    from mlflow import MlflowClient


class ChampionError(ValueError):
    """The champion's run lacks what monitoring needs (its lakeFS commit or window)."""


@dataclass(frozen=True)
class Champion:
    model_name: str
    version: str
    run_id: str
    repository: str
    commit_id: str
    window_start: date
    window_end: date
    decision_threshold: float
    holdout_metrics: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "window_start": self.window_start.isoformat(),
                "window_end": self.window_end.isoformat()}


def find_champion(client: MlflowClient, usecase: UseCase, alias: str = Alias.CHAMPION) -> Champion | None:
    """The version behind ``alias`` of the use case's registered model, or None when there is none yet."""
    from mlflow.exceptions import MlflowException

    model_name = usecase.require_training().registered_model
    try:
        version = client.get_model_version_by_alias(model_name, alias)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise
    if not version.run_id:
        raise ChampionError(f"{model_name} v{version.version} has no training run: its data cannot be identified")
    run_id = str(version.run_id)
    run = client.get_run(run_id)
    commit = run.data.tags.get(TagKey.LAKEFS_COMMIT)
    if not commit:
        raise ChampionError(f"{model_name} v{version.version} (run {version.run_id}) has no {TagKey.LAKEFS_COMMIT} "
                            "tag: its training data cannot be identified")
    with tempfile.TemporaryDirectory() as folder:
        try:
            settings = json.loads(Path(client.download_artifacts(run_id, Artifact.RUN_SETTINGS, folder))
                                  .read_text())
        except (OSError, MlflowException) as error:
            raise ChampionError(f"{model_name} v{version.version}: no {Artifact.RUN_SETTINGS} on run "
                                f"{version.run_id}: {error}") from None
    holdout = {key.removeprefix("holdout."): value for key, value in run.data.metrics.items()
               if key.startswith("holdout.") and key.count(".") == 1}
    return Champion(model_name=model_name, version=str(version.version), run_id=run_id,
                    repository=run.data.tags.get(TagKey.LAKEFS_REPOSITORY, usecase.lakefs_repository),
                    commit_id=commit, window_start=date.fromisoformat(settings["window_start"]),
                    window_end=date.fromisoformat(settings["window_end"]),
                    decision_threshold=float(settings.get("decision_threshold", 0.5)), holdout_metrics=holdout)


def load_champion_model(client: MlflowClient, champion: Champion) -> Any:
    """The champion's pipeline, downloaded through ``client``'s server (skops format)."""
    import mlflow.artifacts
    import mlflow.sklearn

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # skops touches Airflow's deprecated aliases
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=client.get_model_version_download_uri(champion.model_name, champion.version),
            dst_path=folder, tracking_uri=client.tracking_uri)
        return mlflow.sklearn.load_model(local)


def predict(model: Any, frame: pd.DataFrame, features: list[str], task: str) -> np.ndarray:
    """Probability of the positive class (classification) or the predicted value (regression)."""
    if frame.empty:
        return np.array([], dtype=float)
    if task == "binary_classification":
        return np.asarray(model.predict_proba(frame[features])[:, 1], dtype=float)
    return np.asarray(model.predict(frame[features]), dtype=float)

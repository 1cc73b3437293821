"""The MLflow model registry as every stage uses it: aliases and a model version's files.

Training sets ``challenger``; deployment moves ``staging`` and ``champion``; monitoring reads
``champion``. All of them go through these functions with the client of ``MlflowHook.get_conn()``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlflow import MlflowClient


def alias_version(client: MlflowClient, model_name: str, alias: str) -> str | None:
    """The version an alias points to, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return None
        raise


def has_model_version(client: MlflowClient, model_name: str, version: str) -> bool:
    """Whether the registry holds ``model_name`` version ``version`` (a missing model holds none)."""
    from mlflow.exceptions import MlflowException

    try:
        client.get_model_version(model_name, version)
    except MlflowException as error:
        if error.error_code in {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}:
            return False
        raise
    return True


def set_alias(client: MlflowClient, model_name: str, alias: str, version: str) -> None:
    client.set_registered_model_alias(model_name, alias, version)


def download_model(client: MlflowClient, model_name: str, version: str, destination: Path) -> Path:
    """The MLflow model folder (MLmodel, the serialized pipeline, requirements) of a registered version."""
    import mlflow.artifacts

    return Path(mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(model_name, version), dst_path=str(destination),
        tracking_uri=client.tracking_uri))

"""Every Asset of the platform. Stages are wired through these events (and lakeFS commits and
MLflow aliases), never by importing each other; the names and extras are declared in
``include.common.metadata``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk import Asset

from include.common.metadata import (
    challenger_asset_name,
    curated_asset_name,
    drift_asset_name,
    production_asset_name,
)

if TYPE_CHECKING:
    from include.common.usecase import UseCase


def curated_asset(usecase: UseCase) -> Asset:
    """The curated dataset on lakeFS ``main``; each published partition emits an event with its commit."""
    return Asset(name=curated_asset_name(usecase.name),
                 uri=f"lakefs://{usecase.lakefs_repository}/main/{usecase.dataset_prefix}")


def challenger_asset(usecase: UseCase) -> Asset:
    """A model version that passed the evaluation gate (the deployment stage listens to it)."""
    model = usecase.require_training().registered_model
    return Asset(name=challenger_asset_name(usecase.name), uri=f"mlflow://models/{model}/challenger")


def production_asset(usecase: UseCase) -> Asset:
    """The model version production serves; each promotion or rollback emits an event (monitoring listens)."""
    model = usecase.require_training().registered_model
    return Asset(name=production_asset_name(usecase.name), uri=f"mlflow://models/{model}/champion")


def drift_asset(usecase: UseCase) -> Asset:
    """Drift beyond the use case's thresholds that the retraining guard rails let through (train listens)."""
    return Asset(name=drift_asset_name(usecase.name), uri=f"mlops://monitoring/{usecase.name}/drift")

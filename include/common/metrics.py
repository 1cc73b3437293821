"""Model metrics the platform knows, which way each is better, and the evaluation gate's
configuration (part of a use case's ``training`` section, judged by ``include.training.gate``)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from include.common.config import Strict

Metrics = dict[str, float]
SliceMetrics = dict[str, dict[str, Metrics]]


class Direction(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


# Every metric ``include.training.modeling.score`` produces, and which way is better (``rows`` is a count).
METRIC_DIRECTIONS: dict[str, Direction] = {
    "roc_auc": Direction.HIGHER, "pr_auc": Direction.HIGHER, "f1": Direction.HIGHER,
    "log_loss": Direction.LOWER, "brier": Direction.LOWER,
    "mae": Direction.LOWER, "rmse": Direction.LOWER, "r2": Direction.HIGHER,
}


class GateConfig(Strict):
    """Evaluation gate thresholds of a use case (``training.gate`` in its YAML file)."""

    primary_metric: str
    minimums: dict[str, float] = Field({}, description="metric >= value")
    maximums: dict[str, float] = Field({}, description="metric <= value")
    tolerance: float = Field(0.01, ge=0, description="primary may be worse than the champion by at most this")
    min_improvement: float = Field(0.0, ge=0, description="and must beat it by at least this")
    slice_tolerance: float = Field(0.05, ge=0, description="a judged slice's primary metric may drop this much")
    min_slice_rows: int = Field(200, ge=1, description="smaller slices are reported, not judged")

    @model_validator(mode="after")
    def metrics_are_declared(self) -> GateConfig:
        named = {self.primary_metric, *self.minimums, *self.maximums}
        unknown = sorted(named - METRIC_DIRECTIONS.keys())
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; the gate knows {sorted(METRIC_DIRECTIONS)}")
        return self

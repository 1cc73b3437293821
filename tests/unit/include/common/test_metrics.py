"""Metric directions and the gate's configuration model."""

import numpy as np
import pytest
from pydantic import ValidationError

from include.common.metrics import METRIC_DIRECTIONS, Direction, GateConfig
from include.training.modeling import score


def test_every_metric_the_scorer_produces_has_a_declared_direction() -> None:
    produced = {*score("binary_classification", np.array([0, 1, 0, 1]), np.array([0.2, 0.8, 0.4, 0.6])),
                *score("regression", np.array([1.0, 2.0]), np.array([1.5, 2.5]))} - {"rows"}
    assert produced == set(METRIC_DIRECTIONS)


def test_error_metrics_are_lower_is_better() -> None:
    assert {m for m, d in METRIC_DIRECTIONS.items() if d is Direction.LOWER} == {"log_loss", "brier", "mae", "rmse"}


def test_a_gate_naming_an_unknown_metric_is_a_configuration_error() -> None:
    with pytest.raises(ValidationError, match="unknown metrics \\['auc'\\]"):
        GateConfig(primary_metric="auc")
    with pytest.raises(ValidationError, match="unknown metrics \\['accuracy'\\]"):
        GateConfig(primary_metric="mae", maximums={"accuracy": 1.0})

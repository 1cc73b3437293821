"""Behaviour of the flights model (``flights.yaml``: its features, family and hyperparameters),
trained as the training DAG trains it, on three weeks of real departures (June 2013).

Each check holds for the real model and fails for a broken one: the shuffled-label model (the
pipeline's own sanity check) is trained beside it and must not show the same behaviour.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from include.common.usecase import UseCase
from include.training.trainer import TrainedModel
from tests.support.models import change_when_set, predictions, scored_holdout, train_on_real_days

FIRST, LAST = date(2013, 6, 1), date(2013, 6, 21)  # 14 days to train, the last 7 held out
# Known only after departure or not a feature at all: the model must not read them (target leakage).
NOT_FEATURES = {"dep_time": 0.0, "dep_delay": 600.0, "arr_time": 0.0, "arr_delay": 600.0, "air_time": 1.0,
                "cancelled": True, "tailnum": "N00000"}


@pytest.fixture(scope="module")
def model() -> tuple[UseCase, TrainedModel]:
    return train_on_real_days("flights", FIRST, LAST)


@pytest.fixture(scope="module")
def shuffled() -> tuple[UseCase, TrainedModel]:
    return train_on_real_days("flights", FIRST, LAST, shuffle_labels=True)


def test_what_happens_after_departure_is_not_read_by_the_model(model: tuple[UseCase, TrainedModel]) -> None:
    usecase, trained = model
    assert not NOT_FEATURES.keys() & set(usecase.features)
    rows = scored_holdout(usecase, trained)
    assert NOT_FEATURES.keys() <= set(rows.columns)  # the scored rows do carry them
    np.testing.assert_array_equal(predictions(usecase, trained, rows.assign(**NOT_FEATURES)),
                                  predictions(usecase, trained, rows))


def test_later_departures_are_more_likely_delayed(model: tuple[UseCase, TrainedModel],
                                                  shuffled: tuple[UseCase, TrainedModel]) -> None:
    """Delays pile up during the day: a 19:00 departure is riskier than the same flight at 07:00."""
    mean_change, not_lower = change_when_set(*model, "hour", 7, 19)
    assert mean_change > 0.1 and not_lower > 0.9, (mean_change, not_lower)
    assert abs(change_when_set(*shuffled, "hour", 7, 19)[0]) < 0.05  # no such effect without the labels


def test_rain_at_the_origin_raises_the_delay_risk(model: tuple[UseCase, TrainedModel],
                                                  shuffled: tuple[UseCase, TrainedModel]) -> None:
    mean_change, not_lower = change_when_set(*model, "precip", 0.0, 0.3)
    assert mean_change > 0.05 and not_lower > 0.9, (mean_change, not_lower)
    assert abs(change_when_set(*shuffled, "precip", 0.0, 0.3)[0]) < 0.03

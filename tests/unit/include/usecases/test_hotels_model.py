"""Behaviour of the hotels price model (``hotels.yaml``: its features, family and hyperparameters),
trained as the training DAG trains it, on 90 real arrival days (July to September 2016).

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

FIRST, LAST = date(2016, 7, 2), date(2016, 9, 29)  # 76 days to train, the last 14 held out


@pytest.fixture(scope="module")
def model() -> tuple[UseCase, TrainedModel]:
    return train_on_real_days("hotels", FIRST, LAST)


@pytest.fixture(scope="module")
def shuffled() -> tuple[UseCase, TrainedModel]:
    return train_on_real_days("hotels", FIRST, LAST, shuffle_labels=True)


def test_a_room_for_more_adults_is_priced_higher(model: tuple[UseCase, TrainedModel],
                                                 shuffled: tuple[UseCase, TrainedModel]) -> None:
    """The same booking for three adults instead of one: the real model adds about 30 euros a night."""
    mean_change, not_lower = change_when_set(*model, "adults", 1, 3)
    assert mean_change > 15.0 and not_lower > 0.9, (mean_change, not_lower)  # euros per room and night
    assert change_when_set(*shuffled, "adults", 1, 3)[0] < 5.0  # no such effect without the labels


def test_a_booking_is_priced_the_same_whatever_its_position_in_the_batch(
        model: tuple[UseCase, TrainedModel]) -> None:
    usecase, trained = model
    rows = scored_holdout(usecase, trained)
    order = np.random.default_rng(0).permutation(len(rows))
    np.testing.assert_allclose(predictions(usecase, trained, rows.iloc[order]),
                               predictions(usecase, trained, rows)[order], rtol=0, atol=1e-9)
    single = predictions(usecase, trained, rows.iloc[[5]])  # alone or in a batch: the same price
    assert single[0] == pytest.approx(predictions(usecase, trained, rows)[5], abs=1e-9)


def test_the_booking_id_and_the_price_itself_are_not_read(model: tuple[UseCase, TrainedModel]) -> None:
    usecase, trained = model
    rows = scored_holdout(usecase, trained)
    assert {"booking_id", usecase.target} <= set(rows.columns) and not {"booking_id", usecase.target} & set(
        usecase.features)
    np.testing.assert_array_equal(
        predictions(usecase, trained, rows.assign(booking_id=0, **{usecase.target: 10_000.0})),
        predictions(usecase, trained, rows))

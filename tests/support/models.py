"""Train a use case's real model (its family, hyperparameters and seed from the YAML file) on real days
built offline, and probe how its predictions respond to one feature."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from include.common.usecase import UseCase, load_usecase
from include.training.modeling import predict
from include.training.service import PinnedData, run_settings_for
from include.training.trainer import TrainedModel, train
from tests.support.source_data import partitions


def train_on_real_days(name: str, first: date, last: date, *, shuffle_labels: bool = False
                       ) -> tuple[UseCase, TrainedModel]:
    """``train`` as the training DAG runs it, with the use case's default settings, on ``first`` to ``last``.

    One OpenMP thread: on a busy machine (the other tiers running) more threads than free cores make
    scikit-learn's gradient boosting several times slower; the fitted model is the same.
    """
    usecase = load_usecase(name)
    pinned = PinnedData(usecase.lakefs_repository, "offline", "main", first, last, (last - first).days + 1)
    settings = run_settings_for(usecase, pinned, shuffle_labels=shuffle_labels)
    with threadpool_limits(1):
        return usecase, train(partitions(name, first, last), usecase, settings)


def scored_holdout(usecase: UseCase, trained: TrainedModel) -> pd.DataFrame:
    """The held-out rows the model is judged on (those with a label), every column kept."""
    holdout = trained.split.holdout
    return holdout[holdout[usecase.target].notna()]


def predictions(usecase: UseCase, trained: TrainedModel, rows: pd.DataFrame) -> np.ndarray:
    with threadpool_limits(1):
        return predict(trained.pipeline, rows, usecase.task)


def change_when_set(usecase: UseCase, trained: TrainedModel, column: str, low: object, high: object
                    ) -> tuple[float, float]:
    """Setting ``column`` from ``low`` to ``high`` on every held-out row, everything else kept: the mean
    change of the prediction, and the share of rows whose prediction does not go down."""
    rows = scored_holdout(usecase, trained)
    change = predictions(usecase, trained, rows.assign(**{column: high})) - \
        predictions(usecase, trained, rows.assign(**{column: low}))
    return float(np.mean(change)), float(np.mean(change >= -1e-9))

"""Synthetic training data and run settings: a use case shaped like ``flights`` whose label follows
two features (``x`` and ``hour``), so a working pipeline learns it and shuffled labels do not.

Shared by the unit tests of ``include/training`` and the integration tests that log to MLflow.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from include.common.usecase import UseCase, load_usecase
from include.training.trainer import RunSettings

FIRST_DAY = date(2013, 1, 1)


def usecase(task: str = "binary_classification") -> UseCase:
    """The shipped ``flights`` use case with the synthetic features (``price`` is the regression target)."""
    shipped = load_usecase("flights")
    target = "delayed" if task == "binary_classification" else "price"
    return shipped.model_copy(update={"task": task, "target": target, "features": ["x", "origin", "hour"],
                                      "slices": ["origin"]})


def frame(days: int = 21, rows_per_day: int = 120, seed: int = 0) -> pd.DataFrame:
    """``days`` partition days from ``FIRST_DAY``; about 3% of the rows have no label (like cancellations)."""
    rng = np.random.default_rng(seed)
    n = days * rows_per_day
    x = rng.normal(size=n)
    hour = rng.integers(5, 23, size=n)
    signal = x + 0.1 * (hour - 14) + rng.normal(scale=0.7, size=n)
    return pd.DataFrame({
        "flight_date": np.repeat([(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(days)], rows_per_day),
        "x": x, "hour": hour, "origin": rng.choice(["EWR", "JFK", "LGA"], size=n),
        "delayed": pd.array(np.where(rng.random(n) < 0.03, None, signal > 0.8), dtype="boolean"),
        "price": 100 + 20 * signal,
    })


def settings(**changes: object) -> RunSettings:
    """Settings for a 21-day window from ``FIRST_DAY`` (7 held out), a small seeded model; ``changes`` override."""
    base = RunSettings(usecase="flights", window_start=FIRST_DAY, window_end=FIRST_DAY + timedelta(days=20),
                       holdout_days=7, family="hist_gradient_boosting", hyperparameters={"max_iter": 40}, seed=3)
    return RunSettings(**{**base.__dict__, **changes})  # type: ignore[arg-type]

"""DAG factories, one module per stage; what they share."""

from __future__ import annotations

import os
from datetime import timedelta

from include.common.environments import current_environment

RETRY_DELAY_ENV = "MLOPS_RETRY_DELAY_SECONDS"


def paused_upon_creation() -> bool:
    """Whether a new DAG starts paused: the environment's ``dags.paused_upon_creation`` (``MLOPS_ENVIRONMENT``
    selects ``config/environments/<env>.yaml``, read once per process when the first DAG file is parsed)."""
    return current_environment().dags.paused_upon_creation


def retry_delay(seconds: float) -> timedelta:
    """A DAG's delay between task retries: ``seconds``, unless the stack sets ``MLOPS_RETRY_DELAY_SECONDS``
    for every DAG (read when the file is parsed; the test stack uses 5 s so that the fault and bad-input
    tests do not wait out production's delays)."""
    override = os.environ.get(RETRY_DELAY_ENV, "").strip()
    return timedelta(seconds=float(override) if override else seconds)

"""DAG factories, one module per stage; what they share."""

from __future__ import annotations

import os
from datetime import timedelta

RETRY_DELAY_ENV = "MLOPS_RETRY_DELAY_SECONDS"


def retry_delay(seconds: float) -> timedelta:
    """A DAG's delay between task retries: ``seconds``, unless the stack sets ``MLOPS_RETRY_DELAY_SECONDS``
    for every DAG (read when the file is parsed; the test stack uses 5 s so that the fault and bad-input
    tests do not wait out production's delays)."""
    override = os.environ.get(RETRY_DELAY_ENV, "").strip()
    return timedelta(seconds=float(override) if override else seconds)

"""Drift-triggered retraining: the cool-down rule shared by monitoring (which requests a retraining)
and training (which runs it, one run at a time, and re-checks it).

Days are the monitored days (partition starts), not wall-clock time, so a replay or a backfill
behaves like the live schedule did.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date


def cooldown_refusal(day: date, earlier: Iterable[date], cooldown_days: int) -> str | None:
    """Why a drift on ``day`` may not retrain when retrainings were requested for ``earlier`` days
    (None: allowed). At most one per ``cooldown_days``: any earlier request less than that many days
    before or after ``day`` blocks it."""
    close = sorted(d for d in earlier if d != day and abs((day - d).days) < cooldown_days)
    if not close:
        return None
    nearest = min(close, key=lambda d: abs((day - d).days))
    return (f"cool-down: a drift-triggered retraining was already requested for {nearest} "
            f"({abs((day - nearest).days)} days from {day}; at most one per {cooldown_days} days)")

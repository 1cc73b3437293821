"""Which rows a monitored day compares: the current sample and the reference sample (pure functions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from include.common.partitioning import PartitionWidth, shift


class TooSmallError(ValueError):
    """Even the widest trailing window allowed has fewer rows than the tests need: the day is skipped."""


@dataclass(frozen=True)
class CurrentWindow:
    days: tuple[date, ...]  # partition starts, oldest first; the last is the monitored day
    rows: int

    @property
    def widened(self) -> bool:
        return len(self.days) > 1


def current_window(day: date, available: Sequence[date], rows_of: Callable[[date], int], *, min_rows: int,
                   max_window: int, width: PartitionWidth = "day") -> CurrentWindow:
    """The monitored day's partition, or the shortest trailing window ending with it that holds ``min_rows``
    rows: the partitions among the last ``max_window`` partition starts (calendar: a missing partition is a
    gap, never a reason to reach further back). ``rows_of`` is called newest first and only as far as
    needed. ``TooSmallError`` says how far the window got."""
    if day not in available:
        raise ValueError(f"no curated partition {day} (available up to {max(available) if available else 'none'})")
    first = shift(day, -(max_window - 1), width)
    earlier = sorted(d for d in available if first <= d <= day)
    taken: list[date] = []
    rows = 0
    for start in reversed(earlier):
        taken.insert(0, start)
        rows += rows_of(start)
        if rows >= min_rows:
            return CurrentWindow(tuple(taken), rows)
    raise TooSmallError(f"{rows} rows in the {len(taken)} partition(s) from {taken[0]} to {day} (window: {first} to "
                        f"{day}, monitoring.max_window {max_window}); the drift tests need at least {min_rows} "
                        "(monitoring.min_rows): skipped, no verdict")


@dataclass(frozen=True)
class ReferenceSample:
    rows: int  # rows in the champion's window
    sampled: int  # rows compared
    seed: int

    def to_dict(self) -> dict[str, int]:
        return {"rows": self.rows, "sampled": self.sampled, "seed": self.seed}


def sample_reference(frame: pd.DataFrame, limit: int, seed: int = 0) -> tuple[pd.DataFrame, ReferenceSample]:
    """At most ``limit`` rows of the reference, a seeded uniform sample (the same rows on every re-run)."""
    if len(frame) <= limit:
        return frame.reset_index(drop=True), ReferenceSample(len(frame), len(frame), seed)
    sample = frame.sample(n=limit, random_state=seed).sort_index().reset_index(drop=True)
    return sample, ReferenceSample(len(frame), limit, seed)

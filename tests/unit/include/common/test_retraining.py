"""The cool-down of drift-triggered retraining, shared by monitoring and training."""

from __future__ import annotations

from datetime import date

from include.common.retraining import cooldown_refusal

DAY = date(2013, 3, 10)


def test_cooldown_counts_monitored_days_both_ways_and_ignores_the_same_day() -> None:
    assert cooldown_refusal(DAY, [date(2013, 3, 3)], 7) is None  # exactly 7 days apart
    assert cooldown_refusal(DAY, [date(2013, 3, 16)], 7) is not None  # a replay of an earlier day
    assert cooldown_refusal(DAY, [DAY], 7) is None  # a re-run of the same day
    assert cooldown_refusal(DAY, [date(2013, 3, 9)], 0) is None

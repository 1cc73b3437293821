"""Current and reference samples: a day, or the shortest trailing window holding enough rows."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from include.monitoring.windows import TooSmallError, current_window, sample_reference

DAYS = [date(2016, 8, 1) + timedelta(days=i) for i in range(10)]


def counting(rows: dict[date, int]):  # type: ignore[no-untyped-def]
    asked: list[date] = []

    def rows_of(day: date) -> int:
        asked.append(day)
        return rows[day]

    return rows_of, asked


def test_a_big_enough_day_is_its_own_window_and_nothing_else_is_read() -> None:
    rows_of, asked = counting({d: 900 for d in DAYS})
    window = current_window(DAYS[5], DAYS, rows_of, min_rows=300, max_window=7)
    assert window.days == (DAYS[5],) and window.rows == 900 and not window.widened
    assert asked == [DAYS[5]]


def test_a_small_day_widens_backwards_only_as_far_as_needed() -> None:
    rows_of, asked = counting({d: 60 for d in DAYS})
    window = current_window(DAYS[9], DAYS, rows_of, min_rows=150, max_window=14)
    assert window.days == tuple(DAYS[7:10]) and window.rows == 180 and window.widened
    assert asked == [DAYS[9], DAYS[8], DAYS[7]]


def test_missing_days_are_gaps_and_later_days_never_used() -> None:
    available = [DAYS[0], DAYS[2], DAYS[3], DAYS[6]]
    rows_of, asked = counting({d: 100 for d in DAYS})
    window = current_window(DAYS[3], available, rows_of, min_rows=250, max_window=7)
    assert window.days == (DAYS[0], DAYS[2], DAYS[3]) and DAYS[6] not in asked
    with pytest.raises(TooSmallError, match=r"200 rows in the 2 partition\(s\) from 2016-08-03 to 2016-08-04 "
                                            r"\(window: 2016-08-02 to 2016-08-04"):
        current_window(DAYS[3], available, rows_of, min_rows=250, max_window=3)  # DAYS[0] is outside


def test_too_few_rows_even_in_the_widest_window_is_a_clear_skip() -> None:
    rows_of, _ = counting({d: 10 for d in DAYS})
    with pytest.raises(TooSmallError, match=r"30 rows in the 3 partition\(s\) from 2016-08-08 to 2016-08-10 .* "
                                            r"the drift tests need at least 150 \(monitoring.min_rows\): skipped"):
        current_window(DAYS[9], DAYS, rows_of, min_rows=150, max_window=3)


def test_weekly_partitions_widen_by_weeks() -> None:
    mondays = [date(2013, 1, 7) + timedelta(weeks=i) for i in range(4)]
    window = current_window(mondays[3], mondays, lambda d: 100, min_rows=300, max_window=3, width="week")
    assert window.days == tuple(mondays[1:])


def test_a_day_without_a_partition_is_an_error() -> None:
    with pytest.raises(ValueError, match="no curated partition 2016-08-20"):
        current_window(date(2016, 8, 20), DAYS, lambda d: 1, min_rows=1, max_window=1)


def test_reference_sample_is_seeded_and_recorded() -> None:
    frame = pd.DataFrame({"v": range(1000)})
    small, info = sample_reference(frame, 5000)
    assert len(small) == 1000 and info.to_dict() == {"rows": 1000, "sampled": 1000, "seed": 0}
    first, info = sample_reference(frame, 100)
    again, _ = sample_reference(frame, 100)
    assert info.sampled == 100 and info.rows == 1000 and first.equals(again)
    assert first["v"].is_monotonic_increasing  # original order kept

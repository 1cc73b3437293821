"""The shapes a run's parameters may take (no servers)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from include.common.params import (
    LAKEFS_REF_PATTERN,
    MODEL_VERSION_PATTERN,
    ParameterError,
    check_date_in_range,
    parse_date,
    partitions_between,
)


@pytest.mark.parametrize("ref", ["main", "main~1", "main^2", "a1b2c3d4", "etl-flights-2013-02-04-manual_x", "v1.0",
                                 "0" * 64])
def test_lakefs_references_match(ref: str) -> None:
    assert re.fullmatch(LAKEFS_REF_PATTERN, ref)


@pytest.mark.parametrize("ref", ["main'; DROP TABLE runs;--", "main; rm -rf /", "$(id)", "a b", "", "../main",
                                 "x" * 300])
def test_sql_or_shell_looking_references_do_not(ref: str) -> None:
    assert not re.search(LAKEFS_REF_PATTERN, ref)


def test_model_versions_are_positive_integers() -> None:
    assert re.fullmatch(MODEL_VERSION_PATTERN, "12")
    for bad in ("0", "-1", "1 OR 1=1", "champion", "1.5", "1" * 12):
        assert not re.search(MODEL_VERSION_PATTERN, bad), bad


def test_dates_are_checked_against_a_range_by_parameter_name() -> None:
    first, last = date(2013, 1, 1), date(2013, 12, 31)
    assert check_date_in_range("window_end", date(2013, 6, 1), first, last) == date(2013, 6, 1)
    with pytest.raises(ParameterError, match=r"parameter 'window_end': 2014-01-01 is outside the data "
                                             r"\(2013-01-01 to 2013-12-31\)") as error:
        check_date_in_range("window_end", date(2014, 1, 1), first, last)
    assert error.value.name == "window_end"
    assert parse_date("d", "2013-02-04") == date(2013, 2, 4)
    with pytest.raises(ParameterError, match="parameter 'd': '2013-02-30' is not an ISO date"):
        parse_date("d", "2013-02-30")


def test_partitions_between_counts_partition_starts() -> None:
    assert partitions_between(date(2013, 1, 1), date(2013, 12, 31), "day") == 365
    assert partitions_between(date(2012, 12, 31), date(2013, 12, 30), "week") == 53
    assert partitions_between(date(2013, 1, 1), date(2013, 12, 1), "month") == 12

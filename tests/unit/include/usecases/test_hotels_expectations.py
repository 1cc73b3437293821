"""The shipped suite ``hotels.expectations.json`` on a real arrival day of modeldata's hotel_rates,
built offline the way the ETL builds it: the day passes, and each known defect fails the expectation
meant to catch it and nothing that concerns other columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from include.common.usecase import load_usecase
from include.etl.validation import load_suite
from tests.support.source_data import source_frames
from tests.support.suites import Frames, about_other_columns, unmet, validate_day

USECASE = load_usecase("hotels")
DAY = date(2016, 9, 5)  # 38 bookings arriving that day


@pytest.fixture(scope="module")
def source() -> Frames:
    return source_frames(USECASE, DAY)


def test_a_real_day_passes_every_expectation(source: Frames) -> None:
    report = validate_day(USECASE, DAY, source)
    assert report.failure_summary().splitlines()[1:] == [] and report.success
    assert report.warnings == []
    assert report.evaluated == len(load_suite(USECASE.suite_path)["expectations"]) + 1  # + the row count
    assert report.row_count == len(source["hotel_rates"]) == 38


def set_first(column: str, value: object, every: int = 5) -> Callable[[Frames], None]:
    def inject(frames: Frames) -> None:
        bookings = frames["hotel_rates"]
        bookings.loc[bookings.index % every == 0, column] = value
    return inject


def duplicate_booking(frames: Frames) -> None:
    frames["hotel_rates"].loc[1, "booking_id"] = frames["hotel_rates"].loc[0, "booking_id"]


def lead_time_as_text(frames: Frames) -> None:
    frames["hotel_rates"]["lead_time"] = frames["hotel_rates"]["lead_time"].astype(str)


def three_bookings(frames: Frames) -> None:
    frames["hotel_rates"] = frames["hotel_rates"].iloc[:3]


DEFECTS: dict[str, tuple[Callable[[Frames], None], set[tuple[str, str]]]] = {
    "null in a required column": (set_first("avg_price_per_room", None),
                                  {("expect_column_values_to_not_be_null", "avg_price_per_room")}),
    "out-of-range value": (set_first("avg_price_per_room", -20.0),
                           {("expect_column_values_to_be_between", "avg_price_per_room")}),
    "unknown category": (set_first("market_segment", "timeshare"),
                         {("expect_column_values_to_be_in_set", "market_segment")}),
    "wrong type": (lead_time_as_text, {("expect_column_values_to_be_in_type_list", "lead_time"),
                                       ("expect_column_values_to_be_between", "lead_time")}),
    "duplicate key": (duplicate_booking, {("expect_column_values_to_be_unique", "booking_id")}),
    "too few rows": (three_bookings, {("expect_table_row_count_to_be_between", "")}),
    "implausible party size": (set_first("adults", 99), {("expect_column_values_to_be_between", "adults")}),
    "implausible stay": (set_first("stays_in_week_nights", 200), {("expect_column_values_to_be_between", "nights")}),
}


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda name: name.replace(" ", "-"))
def test_each_known_defect_fails_the_expectation_meant_for_it(source: Frames, defect: str) -> None:
    inject, expected = DEFECTS[defect]
    report = validate_day(USECASE, DAY, source, inject)
    assert not report.success
    assert expected <= unmet(report.failed), report.failure_summary()
    assert about_other_columns(report.failed, {column for _, column in expected}) == []

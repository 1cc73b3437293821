"""Data contracts between columns (the relationship expectations of the shipped suites) on real days.

A real day of each use case, built offline from the datasets that seed the source and validated as
the ETL validates it (with the day's source window), passes every blocking expectation; each
relationship defect, injected into the day's source rows or into its curated partition, fails
exactly the rule written for it. The defect cases run only the suite's relationship and window
expectations (the single-column ones are covered by the suite tests), which keeps them fast.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from include.common.usecase import UseCase, load_usecase
from include.etl.source_seed import AIRPORTS, FLIGHTS, HOTEL_RATES, PLANES, WEATHER, SourceTable, load_dataset
from include.etl.validation import (
    InvalidSuiteError,
    ValidationReport,
    load_suite,
    validate_partition,
    window_dates,
    with_window,
)

Frames = dict[str, pd.DataFrame]
FLIGHTS_DAY = date(2013, 3, 10)  # summer time starts (a 23-hour day), departures after midnight, flights to PHX/HNL
HOTELS_DAY = date(2016, 12, 25)  # near Christmas


TABLES = {source.name: source for source in (AIRPORTS, FLIGHTS, HOTEL_RATES, PLANES, WEATHER)}


def table(source: SourceTable) -> pd.DataFrame:
    return whole_table(source.name)


@cache
def whole_table(name: str) -> pd.DataFrame:
    return load_dataset(TABLES[name])


def as_extracted(frame: pd.DataFrame, source: SourceTable) -> pd.DataFrame:
    """Numbers typed as the ETL's extraction types psycopg2 rows (``from_records(coerce_float=True)``)."""
    out = frame.reset_index(drop=True).copy()
    for column, sql_type in source.columns.items():
        if sql_type.startswith("double"):
            out[column] = out[column].astype("float64")
        elif sql_type.startswith("integer"):
            out[column] = out[column].astype("float64" if out[column].isna().any() else "int64")
    return out


def window(usecase: UseCase, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(usecase.source.timezone)
    return datetime.combine(day, datetime.min.time(), zone), datetime.combine(day + timedelta(days=1),
                                                                             datetime.min.time(), zone)


@cache
def real_source(name: str, day: date) -> Frames:
    """The source rows the ETL extracts for ``day`` (flights: local date = year/month/day, as measured)."""
    if name == "hotels":
        bookings = table(HOTEL_RATES)
        return {"hotel_rates": as_extracted(bookings[pd.to_datetime(bookings["arrival_date"]).dt.date == day],
                                            HOTEL_RATES)}
    def on_day(frame: pd.DataFrame) -> pd.Series:
        return (frame["year"] == day.year) & (frame["month"] == day.month) & (frame["day"] == day.day)

    flights, weather = table(FLIGHTS), table(WEATHER)
    return {"flights": as_extracted(flights[on_day(flights)], FLIGHTS),
            "weather": as_extracted(weather[on_day(weather)], WEATHER),
            "planes": as_extracted(table(PLANES), PLANES), "airports": as_extracted(table(AIRPORTS), AIRPORTS)}


def relationships(suite: dict[str, object]) -> dict[str, object]:
    """The suite's relationship expectations: those with a description (window checks are added at run time)."""
    expectations = suite["expectations"]
    assert isinstance(expectations, list)
    return {**suite, "expectations": [e for e in expectations if e.get("description")]}


def validate(name: str, day: date, source: Callable[[Frames], None] | None = None,
             curated: Callable[[pd.DataFrame], None] | None = None, full: bool = False) -> ValidationReport:
    usecase = load_usecase(name)
    frames = copy.deepcopy(real_source(name, day))
    if source:
        source(frames)
    partition = usecase.transform_function()(frames, day)
    if curated:
        curated(partition)
    suite = load_suite(usecase.suite_path)
    limits = usecase.validation.row_count
    return validate_partition(partition, suite if full else relationships(suite),
                              (limits.default_min, limits.default_max, "configured defaults"),
                              examples=usecase.validation.examples, window=window(usecase, day))


def rules(failures: list) -> set[str]:  # type: ignore[type-arg]
    return {failure.description or f"{failure.expectation}({failure.kwargs.get('column')})" for failure in failures}


@pytest.mark.parametrize(("name", "day"), [("flights", FLIGHTS_DAY), ("hotels", HOTELS_DAY)])
def test_a_real_day_passes_every_blocking_expectation_with_its_window(name: str, day: date) -> None:
    report = validate(name, day, full=True)
    assert report.success, report.failure_summary()
    suite = load_suite(load_usecase(name).suite_path)
    windows = suite["meta"]["partition_window"]
    assert report.evaluated == len(suite["expectations"]) + len(windows) + 1  # + the row count
    assert report.warnings == []


def test_the_one_real_new_york_to_new_york_flight_is_a_warning_not_a_failure() -> None:
    report = validate("flights", date(2013, 7, 27), full=True)
    assert report.success and rules(report.warnings) == {"dest is not a New York airport"}


def every(n: int, frame: pd.DataFrame) -> pd.Series:
    return pd.Series(frame.index % n == 0, index=frame.index)


Defect = tuple[Callable[[Frames], None] | None, Callable[[pd.DataFrame], None] | None, set[str]]


def in_flights(change: Callable[[pd.DataFrame], None]) -> Callable[[Frames], None]:
    return lambda frames: change(frames["flights"])


def late_departure_delays(f: pd.DataFrame) -> None:
    f["dep_delay"] = f["dep_delay"] + 30 * every(7, f)


def late_arrival_delays(f: pd.DataFrame) -> None:
    f["arr_delay"] = f["arr_delay"] + 45 * every(7, f)


def lost_departure_delays(f: pd.DataFrame) -> None:
    f["dep_delay"] = f["dep_delay"].mask(every(9, f))


def arrivals_without_departure(f: pd.DataFrame) -> None:
    rows = f["arr_delay"].notna() & every(5, f)
    f["dep_time"], f["dep_delay"] = f["dep_time"].mask(rows), f["dep_delay"].mask(rows)


def round_trips(f: pd.DataFrame) -> None:
    f["dest"] = f["dest"].mask(every(11, f), f["origin"])


def long_air_times(f: pd.DataFrame) -> None:
    f["air_time"] = f["air_time"] + 120 * (every(7, f) & (f["distance"] > 1000))  # still faster than 50 mph


def air_time_in_hours(f: pd.DataFrame) -> None:
    f["air_time"] = f["air_time"] / 60


def wrong_month(f: pd.DataFrame) -> None:
    f["month"] = f["month"].mask(every(13, f), 4)


def wrong_scheduled_minute(f: pd.DataFrame) -> None:
    f["minute"] = f["minute"].mask(every(6, f), (f["minute"] + 5) % 60)


def next_day_rows(p: pd.DataFrame) -> None:
    p["time_hour"] = p["time_hour"].mask(every(10, p), p["time_hour"] + pd.Timedelta(days=1))


def time_hour_an_hour_late(p: pd.DataFrame) -> None:
    p["time_hour"] = p["time_hour"].mask(p["hour"] < 20, p["time_hour"] + pd.Timedelta(hours=1))


def delayed_flights_labelled_on_time(p: pd.DataFrame) -> None:
    p["delayed"] = p["delayed"].mask(p["arr_delay"] >= 15, False)


def weekday_of_the_next_day(p: pd.DataFrame) -> None:
    p["day_of_week"] = (p["day_of_week"] + 1) % 7


DEP = "dep_delay = dep_time - sched_dep_time in minutes, modulo 24 h (a departure after midnight)"
ARR = "arr_delay = arr_time - sched_arr_time in minutes, modulo 24 h (an arrival after midnight)"
GATE = "air_time is at most the gate-to-gate time (arr_time - dep_time, corrected by dest_tz) + 60 min"
DAY = date(2013, 3, 14)  # a plain Thursday, for the defects

FLIGHT_DEFECTS: dict[str, Defect] = {
    "departure delay disagrees with the times": (in_flights(late_departure_delays), None, {DEP}),
    "arrival delay disagrees with the times": (in_flights(late_arrival_delays), None, {ARR}),
    "departed without a departure delay": (in_flights(lost_departure_delays), None,
                                           {"a flight with a dep_time has a dep_delay"}),
    "no departure but an arrival": (in_flights(arrivals_without_departure), None, {
        "a flight with no dep_time (cancelled) has no arr_time",
        "a flight with no dep_time (cancelled) has no arr_delay"}),
    "origin equals destination": (in_flights(round_trips), None, {  # and dest_tz is New York's, not the arr_time's
        "origin and dest differ", GATE}),
    "air time longer than the trip": (in_flights(long_air_times), None, {GATE}),
    "air time in hours": (in_flights(air_time_in_hours), None, {
        "the average speed distance / air_time is 50-800 mph (catches a unit error in either column)"}),
    "rows from the next day": (None, next_day_rows, {
        "flight_date is the New York date of time_hour, the timestamp the source query selects on",
        "time_hour lies in the partition's window [2013-03-14T00:00:00-04:00, 2013-03-15T00:00:00-04:00)"}),
    "time_hour an hour late": (None, time_hour_an_hour_late,
                               {"hour (from the source) is the New York hour of time_hour"}),
    "month disagrees with time_hour": (in_flights(wrong_month), None,
                                       {"month (from the source) is the New York month of time_hour"}),
    "scheduled minute disagrees with sched_dep_time": (in_flights(wrong_scheduled_minute), None,
                                                       {"hour and minute are the two parts of sched_dep_time (hhmm)"}),
    "delayed flights labelled on time": (None, delayed_flights_labelled_on_time,
                                         {"delayed is true when arr_delay >= 15 minutes"}),
    "weekday of another day": (None, weekday_of_the_next_day,
                               {"day_of_week is the weekday of flight_date (Monday = 0)"}),
}


@pytest.mark.parametrize("defect", FLIGHT_DEFECTS, ids=lambda name: name.replace(" ", "-"))
def test_each_flights_relationship_defect_fails_its_rule(defect: str) -> None:
    source, curated, expected = FLIGHT_DEFECTS[defect]
    report = validate("flights", DAY, source, curated)
    assert not report.success
    assert rules(report.failed) == expected, report.failure_summary()


def in_bookings(change: Callable[[pd.DataFrame], None]) -> Callable[[Frames], None]:
    return lambda frames: change(frames["hotel_rates"])


def decimal_date_of_the_next_day(b: pd.DataFrame) -> None:
    b["arrival_date_num"] = b["arrival_date_num"].mask(every(4, b), b["arrival_date_num"] + 1 / 365)


def arrival_date_of_the_next_day(p: pd.DataFrame) -> None:
    p["arrival_date"] = p["arrival_date"].mask(every(4, p), "2017-03-16")


def nights_off_by_one(p: pd.DataFrame) -> None:
    p["nights"] = p["nights"] + every(3, p)


def five_weekend_nights_in_six(b: pd.DataFrame) -> None:
    rows = every(5, b)
    b["stays_in_weekend_nights"] = b["stays_in_weekend_nights"].mask(rows, 5)
    b["stays_in_week_nights"] = b["stays_in_week_nights"].mask(rows, 1)


def children_alone(b: pd.DataFrame) -> None:
    rows = every(4, b)
    b["children"], b["adults"] = b["children"].mask(rows, 1), b["adults"].mask(rows, 0)


def waiting_past_arrival(b: pd.DataFrame) -> None:
    b["days_in_waiting_list"] = b["lead_time"] + every(3, b)


def prices_in_cents(b: pd.DataFrame) -> None:
    b["avg_price_per_room"] = b["avg_price_per_room"] * 100


def christmas_in_march(b: pd.DataFrame) -> None:
    b["near_christmas"] = 1


HOTELS_DATE = date(2017, 3, 15)
DECIMAL = "arrival_date_num (the source's decimal year) encodes arrival_date"
HOTEL_DEFECTS: dict[str, Defect] = {
    "a booking of another day": (in_bookings(decimal_date_of_the_next_day), None, {DECIMAL}),
    "partition column outside the window": (None, arrival_date_of_the_next_day, {
        "arrival_date lies in the partition's window [2017-03-15T00:00:00+00:00, 2017-03-16T00:00:00+00:00)",
        DECIMAL, "day_of_week is the weekday of arrival_date (Monday = 0)"}),
    "nights not the sum of the stay": (None, nights_off_by_one,
                                       {"nights = stays_in_weekend_nights + stays_in_week_nights"}),
    "weekend nights that no calendar has": (in_bookings(five_weekend_nights_in_six), None, {
        "the weekend/week split fits a calendar: each whole week of the stay has 2 weekend and 5 week nights, "
        "the rest at most 2 weekend and 5 week nights"}),
    "children without adults": (in_bookings(children_alone), None,
                                {"children and babies travel with at least one adult"}),
    "waiting longer than the lead time": (in_bookings(waiting_past_arrival), None,
                                          {"lead_time >= days_in_waiting_list (waiting is part of the lead time)"}),
    "price in cents": (in_bookings(prices_in_cents), None, {
        "avg_price_per_room is 0.05-10 times the day's historical_adr (catches a unit or scale error)"}),
    "holiday flag on a plain day": (in_bookings(christmas_in_march), None,
                                    {"near_christmas is 1 exactly for arrivals on 24-26 December"}),
}


@pytest.mark.parametrize("defect", HOTEL_DEFECTS, ids=lambda name: name.replace(" ", "-"))
def test_each_hotels_relationship_defect_fails_its_rule(defect: str) -> None:
    source, curated, expected = HOTEL_DEFECTS[defect]
    report = validate("hotels", HOTELS_DATE, source, curated)
    assert not report.success
    assert rules(report.failed) == expected, report.failure_summary()


def test_a_relationship_failure_shows_its_rule_and_example_rows_with_the_columns_involved() -> None:
    source, _, _ = FLIGHT_DEFECTS["departure delay disagrees with the times"]
    report = validate("flights", DAY, source)
    [failure] = report.failed
    summary = report.failure_summary()
    assert f'expect_column_values_to_be_null(dep_delay) "{DEP}" - ' in summary
    flights = real_source("flights", DAY)["flights"]
    assert failure.unexpected_count == (every(7, flights) & flights["dep_time"].notna()).sum()
    assert f"{failure.unexpected_count} rows fail" in summary and "example rows [{" in summary
    assert set(failure.examples[0]) == {"dep_time", "sched_dep_time", "dep_delay"}


def test_a_pair_failure_names_both_columns() -> None:
    source, _, _ = HOTEL_DEFECTS["waiting longer than the lead time"]
    summary = validate("hotels", HOTELS_DATE, source).failure_summary()
    assert "expect_column_pair_values_a_to_be_greater_than_b(lead_time, days_in_waiting_list)" in summary


def test_the_window_of_a_summer_time_day_week_and_month() -> None:
    zone = ZoneInfo("America/New_York")
    start = datetime(2013, 3, 10, tzinfo=zone)
    assert window_dates(start, datetime(2013, 3, 11, tzinfo=zone)) == ["2013-03-10"]  # a 23-hour day
    assert window_dates(datetime(2013, 3, 4, tzinfo=zone), datetime(2013, 3, 11, tzinfo=zone))[-1] == "2013-03-10"
    assert len(window_dates(datetime(2013, 2, 1, tzinfo=zone), datetime(2013, 3, 1, tzinfo=zone))) == 28
    windows = [{"column": "t", "kind": "timestamp"}, {"column": "d", "kind": "date"}]
    suite = with_window({"name": "s", "expectations": [], "meta": {"partition_window": windows}},
                        (start, datetime(2013, 3, 11, tzinfo=zone)))
    timestamp, day = suite["expectations"]
    assert timestamp["kwargs"] == {"column": "t", "min_value": "2013-03-10T00:00:00-05:00",
                                   "max_value": "2013-03-11T00:00:00-04:00", "strict_max": True}
    assert day["kwargs"] == {"column": "d", "value_set": ["2013-03-10"]}


def test_window_checks_are_added_only_when_the_caller_passes_a_window() -> None:
    zone = ZoneInfo("UTC")
    suite = {"name": "s", "expectations": [], "meta": {"partition_window": [{"column": "t", "kind": "timestamp"}]}}
    frame = pd.DataFrame({"t": pd.to_datetime(["2020-01-01 23:59", "2020-01-02 00:00"], utc=True)})
    assert validate_partition(frame, suite, (1, 5, "x")).evaluated == 1
    report = validate_partition(frame, suite, (1, 5, "x"),
                                window=(datetime(2020, 1, 1, tzinfo=zone), datetime(2020, 1, 2, tzinfo=zone)))
    assert not report.success and report.failed[0].unexpected_count == 1  # the end is exclusive
    assert "t lies in the partition's window" in report.failure_summary()


def test_a_suite_expectation_gx_refuses_stops_validation_instead_of_being_dropped() -> None:
    suite = {"name": "s", "expectations": [{"type": "expect_column_pair_values_A_to_be_greater_than_B",
                                            "kwargs": {"column_A": "a", "column_B": "b"}}]}
    with pytest.raises(InvalidSuiteError, match="expect_column_pair_values_A_to_be_greater_than_B"):
        validate_partition(pd.DataFrame({"a": [2], "b": [1]}), suite, (1, 5, "x"))


@pytest.mark.parametrize("name", ["flights", "hotels"])
def test_every_relationship_rule_is_described_and_parsed_by_pandas(name: str) -> None:
    suite = load_suite(load_usecase(name).suite_path)
    for expectation in suite["expectations"]:
        kwargs = expectation["kwargs"]
        if "row_condition" in kwargs:
            assert kwargs.get("condition_parser") == "pandas", expectation
        if expectation.get("description"):
            assert expectation["meta"].get("notes"), f"{expectation['description']}: record the real violation rate"
            assert expectation["meta"].get("severity", "error") in ("error", "warning")

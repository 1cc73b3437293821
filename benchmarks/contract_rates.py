"""Measure the data contracts on the real data: every real day through the shipped suite (no servers).

Builds each day's curated partition from the offline datasets with the use case's transform (the
source frames typed as the ETL's extraction types them), validates it exactly as the ETL does
(the use case's suite, the configured row-count defaults, the day's source window), and prints,
per relationship expectation (those with a ``description``) and per window check: the real rows
that break it (of all rows), the days on which some row breaks it, and the days on which it
is unmet (for blocking expectations that would quarantine the day). It ends with every day that a
blocking expectation would quarantine; there should be none. The figures are what the README's
"Data contracts" table shows.

    PYTHONPATH=. .venv/bin/python benchmarks/contract_rates.py [flights|hotels] [--first 2013-01-01] [--last 2013-12-31]

One validation per day: about 2-4 s per day for flights and 1-2 s for hotels on this machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from include.common.usecase import UseCase, load_usecase
from include.etl.source_seed import AIRPORTS, FLIGHTS, HOTEL_RATES, PLANES, WEATHER, SourceTable, load_dataset
from include.etl.validation import load_suite, validate_partition


def as_extracted(frame: pd.DataFrame, table: SourceTable) -> pd.DataFrame:
    """Numbers as ``DataFrame.from_records(..., coerce_float=True)`` types psycopg2's rows: ``double
    precision`` as ``float64``; ``integer`` as ``int64``, or ``float64`` when the day has a null."""
    out = frame.copy()
    for column, sql_type in table.columns.items():
        if sql_type.startswith("double"):
            out[column] = out[column].astype("float64")
        elif sql_type.startswith("integer"):
            out[column] = out[column].astype("float64" if out[column].isna().any() else "int64")
    return out.reset_index(drop=True)


def flights_days() -> Iterator[tuple[date, dict[str, pd.DataFrame]]]:
    flights, weather = load_dataset(FLIGHTS), load_dataset(WEATHER)
    planes, airports = as_extracted(load_dataset(PLANES), PLANES), as_extracted(load_dataset(AIRPORTS), AIRPORTS)
    weather_by_day = {key: part for key, part in weather.groupby(["year", "month", "day"])}
    for (year, month, day), day_flights in flights.groupby(["year", "month", "day"]):
        day_weather = weather_by_day.get((year, month, day), weather.iloc[0:0])
        yield date(int(year), int(month), int(day)), {
            "flights": as_extracted(day_flights, FLIGHTS), "weather": as_extracted(day_weather, WEATHER),
            "planes": planes, "airports": airports}


def hotels_days() -> Iterator[tuple[date, dict[str, pd.DataFrame]]]:
    bookings = load_dataset(HOTEL_RATES)
    days = pd.to_datetime(bookings["arrival_date"]).dt.date
    for day in sorted(set(days)):
        yield day, {"hotel_rates": as_extracted(bookings[days == day], HOTEL_RATES)}


def day_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    return datetime.combine(day, datetime.min.time(), zone), datetime.combine(day + timedelta(days=1),
                                                                             datetime.min.time(), zone)


@dataclass
class Tally:
    severity: str
    broken_rows: int = 0
    rows: int = 0
    days_broken: list[str] = field(default_factory=list)
    days_unmet: list[str] = field(default_factory=list)


def label(config: dict[str, object]) -> str:
    kwargs = config.get("kwargs") or {}
    assert isinstance(kwargs, dict)
    description = str(config.get("description") or "")
    if description.startswith(f"{kwargs.get('column')} lies in the partition's window"):
        description = f"{kwargs.get('column')} lies in the partition's window"  # one row for every day's window
    return description


def measure(usecase: UseCase, first: date | None, last: date | None) -> None:
    suite = load_suite(usecase.suite_path)
    limits = usecase.validation.row_count
    tallies: dict[str, Tally] = {}
    quarantined: dict[str, list[str]] = defaultdict(list)
    started, days = time.monotonic(), 0
    source = flights_days() if usecase.name == "flights" else hotels_days()
    for day, frames in source:
        if (first and day < first) or (last and day > last):
            continue
        partition = usecase.transform_function()(frames, day)
        report = validate_partition(partition, suite, (limits.default_min, limits.default_max, "configured defaults"),
                                    window=day_window(day, usecase.source.timezone))
        days += 1
        for failure in report.failed:
            quarantined[day.isoformat()].append(failure.describe())
        for result in json.loads(report.result_json)["results"]:
            config = result["expectation_config"]
            if not config.get("description"):
                continue
            severity = (config.get("meta") or {}).get("severity", "error")
            tally = tallies.setdefault(label(config), Tally(severity))
            broken = int((result.get("result") or {}).get("unexpected_count") or 0)
            tally.broken_rows += broken
            tally.rows += len(partition)
            if broken:
                tally.days_broken.append(day.isoformat())
            if not result["success"]:
                tally.days_unmet.append(day.isoformat())
    elapsed = time.monotonic() - started
    print(f"\n{usecase.name}: {days} real days validated in {elapsed:.0f} s ({elapsed / max(days, 1):.1f} s per day)\n")
    print("| expectation | severity | real rows breaking it | days with a breaking row | days unmet |")
    print("| --- | --- | --- | --- | --- |")
    for name, tally in tallies.items():
        share = tally.broken_rows / tally.rows if tally.rows else 0.0
        example = f" (e.g. {tally.days_unmet[0]})" if tally.days_unmet else ""
        print(f"| {name} | {tally.severity} | {tally.broken_rows:,} of {tally.rows:,} ({share:.3%}) | "
              f"{len(tally.days_broken)} | {len(tally.days_unmet)}{example} |")
    print(f"\ndays a blocking expectation would quarantine: {len(quarantined)}")
    for day_name, failures in sorted(quarantined.items()):
        print(f"  {day_name}: " + "; ".join(failures))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("usecase", choices=["flights", "hotels"])
    parser.add_argument("--first", type=date.fromisoformat)
    parser.add_argument("--last", type=date.fromisoformat)
    args = parser.parse_args()
    measure(load_usecase(args.usecase), args.first, args.last)


if __name__ == "__main__":
    main()

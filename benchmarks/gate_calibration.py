"""Calibrate the gate's value thresholds on the real data (in one process, no servers).

Builds the curated partitions of each use case straight from the offline datasets with the
same transforms the ETL uses, trains the use case's default model on rolling windows across the
whole date range, and prints holdout metrics per window, for the real labels and for shuffled
labels. Thresholds belong between the worst real window and the best shuffled one.

    .venv/bin/python benchmarks/gate_calibration.py [flights|hotels] [--step-days 28]
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta

import pandas as pd

from include.common.usecase import UseCase, load_usecase
from include.etl.source_seed import AIRPORTS, FLIGHTS, HOTEL_RATES, PLANES, WEATHER, load_dataset
from include.training.trainer import RunSettings, train, training_window


def flights_partitions(usecase: UseCase) -> pd.DataFrame:
    flights, weather = load_dataset(FLIGHTS), load_dataset(WEATHER)
    planes, airports = load_dataset(PLANES), load_dataset(AIRPORTS)
    build = usecase.transform_function()
    parts = []
    for (year, month, day), day_flights in flights.groupby(["year", "month", "day"]):
        today = date(int(year), int(month), int(day))
        day_weather = weather[(weather["year"] == year) & (weather["month"] == month) & (weather["day"] == day)]
        parts.append(build({"flights": day_flights, "weather": day_weather, "planes": planes,
                            "airports": airports}, today))
    return pd.concat(parts, ignore_index=True)


def hotels_partitions(usecase: UseCase) -> pd.DataFrame:
    bookings = load_dataset(HOTEL_RATES)
    build = usecase.transform_function()
    days = pd.to_datetime(bookings["arrival_date"]).dt.date
    return pd.concat([build({"hotel_rates": bookings[days == day]}, day) for day in sorted(set(days))],
                     ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("usecase", choices=["flights", "hotels"])
    parser.add_argument("--step-days", type=int, default=28)
    args = parser.parse_args()
    usecase = load_usecase(args.usecase)
    assert usecase.training is not None
    frame = flights_partitions(usecase) if args.usecase == "flights" else hotels_partitions(usecase)
    days = sorted(pd.to_datetime(frame[usecase.partition_column]).dt.date.unique())
    training = usecase.training
    rows = []
    end = days[0] + timedelta(days=training.window_days - 1)
    while end <= days[-1]:
        window = training_window(days, training.window_days, end)
        part = frame[frame[usecase.partition_column].isin([d.isoformat() for d in window])]
        for shuffled in (False, True):
            settings = RunSettings(usecase=usecase.name, window_start=window[0], window_end=window[-1],
                                   holdout_days=training.holdout_days, family=training.family,
                                   hyperparameters=training.hyperparameters.get(training.family, {}),
                                   seed=training.seed, decision_threshold=training.decision_threshold,
                                   shuffle_labels=shuffled)
            metrics = train(part, usecase, settings).evaluation.metrics
            rows.append({"window_end": window[-1], "shuffled": shuffled, **metrics})
            print(rows[-1], flush=True)
        end += timedelta(days=args.step_days)
    table = pd.DataFrame(rows)
    print(table.groupby("shuffled").describe().T.to_string())


if __name__ == "__main__":
    main()

"""Daily route aggregates of NYC departures, for partitions wider than a day.

One row per day, origin and destination within the partition's window: how many flights were
scheduled, how many arrived, their share arriving 15+ minutes late (the regression target
``delay_rate``; missing when none arrived), and the origin's weather that day. Each row carries
the partition's start in the partition column (``week_start`` or ``month_start``), so readers can
split by partition; ``flight_date`` is the local day (the source's own ``year``/``month``/``day``).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

DELAY_MINUTES = 15
KEY = ["flight_date", "origin", "dest"]
WEATHER = {"temp": "mean", "wind_speed": "mean", "visib": "mean", "precip": "sum"}
OUTPUT_COLUMNS = [*KEY, "month", "day_of_week", "departures", "arrived", "delayed", "delay_rate", "carriers",
                  "mean_sched_hour", "distance", *WEATHER]


def local_day(frame: pd.DataFrame) -> pd.Series:
    """ISO dates from the source's local date parts."""
    parts = frame[["year", "month", "day"]].astype(int)
    return pd.to_datetime(parts).dt.strftime("%Y-%m-%d")


def route_days(frames: dict[str, pd.DataFrame], start: date, partition_column: str) -> pd.DataFrame:
    """The aggregated partition starting at ``start``, sorted by its key."""
    flights = frames["flights"].assign(flight_date=lambda f: local_day(f) if len(f) else pd.Series(dtype=str))
    flights["arrived_flag"] = flights["arr_delay"].notna()
    flights["delayed_flag"] = flights["arr_delay"] >= DELAY_MINUTES
    routes = flights.groupby(KEY, as_index=False).agg(
        departures=("carrier", "size"), arrived=("arrived_flag", "sum"), delayed=("delayed_flag", "sum"),
        carriers=("carrier", "nunique"), mean_sched_hour=("hour", "mean"), distance=("distance", "mean"))
    routes[["departures", "arrived", "delayed", "carriers"]] = routes[
        ["departures", "arrived", "delayed", "carriers"]].astype("int64")
    routes["delay_rate"] = (routes["delayed"] / routes["arrived"]).where(routes["arrived"] > 0)
    days = pd.to_datetime(routes["flight_date"])
    routes["month"], routes["day_of_week"] = days.dt.month.astype("int64"), days.dt.dayofweek.astype("int64")
    weather = frames["weather"]
    if len(weather):
        daily = weather.assign(flight_date=local_day(weather)).groupby(["flight_date", "origin"], as_index=False)
        routes = routes.merge(daily.agg(WEATHER), on=["flight_date", "origin"], how="left", validate="many_to_one")
    else:
        routes = routes.assign(**{column: float("nan") for column in WEATHER})
    routes = routes[OUTPUT_COLUMNS].astype({column: "float64" for column in [*WEATHER, "mean_sched_hour", "distance"]})
    routes.insert(0, partition_column, start.isoformat())
    return routes.sort_values(KEY, kind="stable").reset_index(drop=True)


def weekly(frames: dict[str, pd.DataFrame], start: date) -> pd.DataFrame:
    """A week (Monday ``start`` to Sunday) of daily route aggregates, keyed by ``week_start``."""
    return route_days(frames, start, "week_start")


def monthly(frames: dict[str, pd.DataFrame], start: date) -> pd.DataFrame:
    """A calendar month of daily route aggregates, keyed by ``month_start``."""
    return route_days(frames, start, "month_start")

"""Curated daily partition of NYC departures: flights + origin weather + plane + destination.

A flight is *delayed* when it arrives 15 or more minutes late. Flights with no recorded arrival
(``arr_delay`` missing: cancelled or diverted) are kept with ``cancelled = True`` and a missing
label, so they count in the data but never in training labels.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

DELAY_MINUTES = 15
WEATHER_COLUMNS = ["temp", "dewp", "humid", "wind_dir", "wind_speed", "wind_gust", "precip", "pressure", "visib"]
PLANE_COLUMNS = {"year": "plane_year", "seats": "plane_seats", "engines": "plane_engines",
                 "manufacturer": "plane_manufacturer", "type": "plane_type"}
AIRPORT_COLUMNS = {"lat": "dest_lat", "lon": "dest_lon", "alt": "dest_alt", "tz": "dest_tz"}
KEY = ["flight_date", "carrier", "flight", "origin", "sched_dep_time"]
OUTPUT_COLUMNS = [
    "flight_date", "carrier", "flight", "tailnum", "origin", "dest", "month", "day_of_week", "hour", "minute",
    "sched_dep_time", "sched_arr_time", "time_hour", "distance", "dep_time", "dep_delay", "arr_time",
    "arr_delay", "air_time", "cancelled", "delayed", *WEATHER_COLUMNS, *PLANE_COLUMNS.values(),
    *AIRPORT_COLUMNS.values(),
]


def label_delays(flights: pd.DataFrame) -> pd.DataFrame:
    """Add ``cancelled`` (no arrival recorded) and the nullable boolean label ``delayed``."""
    out = flights.copy()
    out["cancelled"] = out["arr_delay"].isna()
    out["delayed"] = (out["arr_delay"] >= DELAY_MINUTES).astype("boolean")
    out.loc[out["cancelled"], "delayed"] = pd.NA
    return out


def present(columns: list[str], frame: pd.DataFrame) -> list[str]:
    """The columns of ``columns`` that ``frame`` has: a missing source column stays missing, so
    validation reports it by name instead of the transform failing or inventing nulls."""
    return [column for column in columns if column in frame.columns]


def attach_weather(flights: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    """Weather at the origin airport at the scheduled departure hour (left join)."""
    hourly = weather[["origin", "time_hour", *present(WEATHER_COLUMNS, weather)]]
    return flights.merge(hourly.drop_duplicates(["origin", "time_hour"]), on=["origin", "time_hour"], how="left",
                         validate="many_to_one")


def attach_planes(flights: pd.DataFrame, planes: pd.DataFrame) -> pd.DataFrame:
    attrs = planes[["tailnum", *present(list(PLANE_COLUMNS), planes)]].rename(columns=PLANE_COLUMNS)
    return flights.merge(attrs.drop_duplicates("tailnum"), on="tailnum", how="left", validate="many_to_one")


def attach_destinations(flights: pd.DataFrame, airports: pd.DataFrame) -> pd.DataFrame:
    attrs = airports[["faa", *present(list(AIRPORT_COLUMNS), airports)]]
    attrs = attrs.rename(columns={"faa": "dest", **AIRPORT_COLUMNS})
    return flights.merge(attrs.drop_duplicates("dest"), on="dest", how="left", validate="many_to_one")


def build_partition(frames: dict[str, pd.DataFrame], day: date) -> pd.DataFrame:
    """The curated partition for ``day`` from the extracted source frames, sorted by its key.

    Source types are kept as extracted (a wrong type reaches validation and is reported there).
    """
    flights = frames["flights"].copy()
    flights["time_hour"] = pd.to_datetime(flights["time_hour"], utc=True)
    flights["flight_date"] = day.isoformat()
    flights["day_of_week"] = day.weekday()
    weather = frames["weather"].assign(time_hour=lambda w: pd.to_datetime(w["time_hour"], utc=True))
    curated = attach_destinations(attach_planes(attach_weather(label_delays(flights), weather), frames["planes"]),
                                  frames["airports"])
    curated = curated[present(OUTPUT_COLUMNS, curated)]
    return curated.sort_values(present(KEY, curated), kind="stable").reset_index(drop=True)

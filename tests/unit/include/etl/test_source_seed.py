import pandas as pd
import pytest

from include.etl.source_seed import (
    FLIGHTS,
    PLANES,
    SOURCE_TABLES,
    SourceTable,
    create_table_sql,
    csv_payload,
    typed_frame,
)
from tests.support.source_data import source_table


def test_every_table_has_a_key_or_index() -> None:
    assert [table.name for table in SOURCE_TABLES if not (table.primary_key or table.indexes)] == []


@pytest.mark.parametrize("table", SOURCE_TABLES, ids=lambda table: table.name)
def test_the_shipped_dataset_fits_the_tables_columns_and_constraints(table: SourceTable) -> None:
    """What ``COPY`` would refuse, found offline: a declared column the dataset lacks (``load_dataset``
    raises), a null in a NOT NULL column, a duplicate primary key."""
    frame = source_table(table.name)
    assert list(frame.columns) == list(table.columns) and len(frame) > 0
    not_null = [name for name, sql_type in table.columns.items() if "NOT NULL" in sql_type]
    assert {name: int(frame[name].isna().sum()) for name in not_null if frame[name].isna().any()} == {}
    if table.primary_key:
        assert not frame.duplicated(list(table.primary_key)).any()


def test_ddl_creates_primary_key_and_indexes() -> None:
    statements = create_table_sql(FLIGHTS)
    assert statements[0] == 'DROP TABLE IF EXISTS "flights" CASCADE'
    assert '"time_hour" timestamptz NOT NULL' in statements[1]
    assert 'CREATE INDEX "flights_year_month_day_idx" ON "flights" (year, month, day)' in statements
    assert "PRIMARY KEY (tailnum)" in create_table_sql(PLANES)[1]


def test_integer_columns_with_gaps_become_nullable_integers_for_copy() -> None:
    raw = pd.DataFrame({name: [1.0, None] for name in PLANES.columns} | {"extra": [0, 0]})
    raw["tailnum"] = ["N1", "N2"]
    frame = typed_frame(raw, PLANES)
    assert list(frame.columns) == list(PLANES.columns)
    assert str(frame["year"].dtype) == "Int64"
    assert csv_payload(frame[["tailnum", "year"]]).read() == "N1,1\nN2,\n"


def test_replay_shift_moves_dates_and_calendar_columns_together() -> None:
    from include.etl.source_seed import HOTEL_RATES, shift_sql

    moved = "(make_date(year, month, day) + 4872)"  # every SET expression reads the row's old values
    assert shift_sql(FLIGHTS, 4872) == (
        'UPDATE "flights" SET "time_hour" = "time_hour" + make_interval(days => 4872), '
        f"year = extract(year FROM {moved})::int, month = extract(month FROM {moved})::int, "
        f"day = extract(day FROM {moved})::int")
    assert shift_sql(FLIGHTS, 0) is None and shift_sql(PLANES, 7) is None
    expected = 'UPDATE "hotel_rates" SET "arrival_date" = "arrival_date" + make_interval(days => 7)'
    assert shift_sql(HOTEL_RATES, 7) == expected


def test_seed_label_records_clock_and_whole_week_shift() -> None:
    from datetime import date

    from include.etl.source_seed import seed_label

    assert seed_label("history", date(2026, 11, 27), FLIGHTS).endswith(":history:0")
    days = int(seed_label("replay", date(2026, 11, 27), FLIGHTS).rsplit(":", 1)[1])
    assert days > 0 and days % 7 == 0
    assert seed_label("replay", date(2026, 11, 27), PLANES).endswith(":replay:0")  # undated table

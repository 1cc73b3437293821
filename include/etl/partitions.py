"""Extract one partition's source rows and serialise the curated partition reproducibly."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from include.common.partitioning import PartitionWidth
from include.etl.windows import parse_partition_date, partition_at

__all__ = ["SourceUnavailableError", "checksum", "extract_frames", "parse_partition_date", "partition_metadata",
           "read_parquet_bytes", "row_count_bounds", "source_window", "to_parquet_bytes"]


class SourceUnavailableError(RuntimeError):
    """The source system could not be queried."""


def partition_metadata(start: date, timezone: str, width: PartitionWidth = "day") -> dict[str, str]:
    """Commit metadata naming the partition and the source time window it covers."""
    return partition_at(start, width, timezone).window_metadata()


def source_window(start: date, timezone: str, width: PartitionWidth = "day") -> tuple[datetime, datetime]:
    """``[start 00:00, next start 00:00)`` in the source's time zone, as aware datetimes."""
    return partition_at(start, width, timezone).window


def extract_frames(connection: Any, queries: dict[str, str], window: tuple[datetime, datetime],
                   timezone: str) -> dict[str, pd.DataFrame]:
    """Run each bounded query for ``window`` on a DB-API ``connection`` (session in the source's zone)."""
    start, end = window
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

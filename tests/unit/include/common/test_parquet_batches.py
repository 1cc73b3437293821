"""Parquet read one row group at a time: every row once, in order, text dictionary-encoded."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from include.common.parquet_batches import is_text, record_batches, text_columns


def test_rows_come_in_order_in_bounded_batches_with_text_encoded(tmp_path: Path) -> None:
    table = pa.table({"n": list(range(10)), "s": [f"v{i % 3}" for i in range(10)]})
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=4)
    batches = list(record_batches(path, batch_rows=3))
    assert [b.num_rows for b in batches] == [3, 1, 3, 1, 2]
    assert [n for b in batches for n in b.column("n").to_pylist()] == list(range(10))
    assert pa.types.is_dictionary(batches[0].schema.field("s").type)
    assert [b.num_columns for b in record_batches(path, columns=["n"])] == [1, 1, 1]


def test_text_columns_plain_or_encoded() -> None:
    assert is_text(pa.string()) and is_text(pa.dictionary(pa.int32(), pa.string())) and not is_text(pa.int64())


def test_text_columns_of_a_file(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table({"a": [1], "b": ["x"], "c": [True]}), path)
    assert text_columns(path) == ["b"]

"""Small conversions between records and file payloads."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def rows_to_csv(rows: Sequence[dict[str, Any]]) -> bytes:
    """CSV bytes with a header from the first row's keys; an empty list gives empty bytes."""
    if not rows:
        return b""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()

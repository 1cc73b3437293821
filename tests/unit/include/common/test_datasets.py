"""Row counts learned from main's history skip what a rollback undid (no servers)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from include.common.datasets import published_row_counts
from include.common.usecase import load_usecase


def merge(commit_id: str, partition: str, rows: int) -> SimpleNamespace:
    return SimpleNamespace(id=commit_id, metadata={"mlops_usecase": "flights", "source_commit": "s", "partition":
                                                   partition, "row_count": str(rows)})


class Repository:
    def __init__(self, log: list[SimpleNamespace]) -> None:
        self.log_entries = log

    def branch(self, name: str) -> Any:
        return SimpleNamespace(log=lambda max_amount: iter(self.log_entries))


def test_partitions_a_rollback_undid_are_not_learned_from() -> None:
    log = [merge("m5", "2013-03-12", 900),
           SimpleNamespace(id="rb-merge", metadata={"rollback_to": "m2", "source_commit": "rb"}),
           SimpleNamespace(id="rb", metadata={"rollback_to": "m2"}),
           merge("m4", "2013-03-10", 5),  # the bad day, published by mistake and rolled back
           merge("m3", "2013-03-11", 7),
           merge("m2", "2013-03-09", 950), merge("m1", "2013-03-08", 940)]
    assert published_row_counts(Repository(log), load_usecase("flights"), 5) == [900, 950, 940]  # type: ignore[arg-type]
    assert published_row_counts(Repository(log[3:]), load_usecase("flights"), 5) == [5, 7, 950, 940]  # type: ignore[arg-type]

"""The curated dataset of a use case on lakeFS, the contract between the ETL that publishes it and
the stages that read it: one Parquet object per partition under
``curated/<name>/<partition column>=<partition start>/`` (a day, a week's Monday or a month's first
day; see ``include.common.partitioning``), read at a pinned reference.

Functions take the lakeFS SDK's ``Repository`` (from ``LakeFSHook.repository()``), so the same
code serves operators, scripts and benchmarks.
"""

from __future__ import annotations

import io
from datetime import date
from typing import TYPE_CHECKING

import pandas as pd

from include.common.metadata import CommitKey
from include.common.usecase import UseCase

if TYPE_CHECKING:
    from lakefs import Repository


def read_object(repository: Repository, ref: str, path: str) -> bytes:
    with repository.ref(ref).object(path).reader(mode="rb") as reader:
        content = reader.read()
    return content.encode() if isinstance(content, str) else content


def partition_days(repository: Repository, ref: str, usecase: UseCase) -> list[date]:
    """Starts of the partitions that have a folder at ``ref``, sorted."""
    marker = f"{usecase.dataset_prefix}/{usecase.partition_column}="
    folders = repository.ref(ref).objects(prefix=marker, delimiter="/")
    return sorted(date.fromisoformat(obj.path.removeprefix(marker).rstrip("/")) for obj in folders)


def read_days(repository: Repository, ref: str, usecase: UseCase, first: date, last: date) -> pd.DataFrame:
    """The partitions starting from ``first`` to ``last`` (inclusive) as they are at ``ref``, as one frame."""
    days = [day for day in partition_days(repository, ref, usecase) if first <= day <= last]
    if not days:
        raise ValueError(f"{usecase.name}: no curated partitions from {first} to {last} at lakeFS "
                         f"{repository.id}@{ref}")
    frames = [pd.read_parquet(io.BytesIO(read_object(repository, ref, usecase.partition_path(day)))) for day in days]
    return pd.concat(frames, ignore_index=True)


def published_row_counts(repository: Repository, usecase: UseCase, count: int, exclude: date | None = None,
                         branch: str = "main", depth: int = 500) -> list[int]:
    """Row counts of the most recent distinct partitions of the use case's width published on ``branch``
    (from merge metadata; merges without a width are daily ones). Commits a rollback undid (between a
    rollback and the commit it went back to) are not counted."""
    excluded = exclude.isoformat() if exclude is not None else None
    seen: dict[str, int] = {}
    undone_until: str | None = None
    for commit in repository.branch(branch).log(max_amount=depth):
        meta = commit.metadata or {}
        if undone_until is not None and str(commit.id) != undone_until:
            continue
        undone_until = meta.get(CommitKey.ROLLBACK_TO)
        partition = meta.get(CommitKey.PARTITION)
        if meta.get(CommitKey.USECASE) != usecase.name or CommitKey.SOURCE_COMMIT not in meta or not partition:
            continue
        if meta.get(CommitKey.PARTITION_WIDTH, "day") != usecase.partition_width:
            continue  # published before the use case changed its width: another size of partition
        if partition != excluded and partition not in seen and CommitKey.ROW_COUNT in meta:
            seen[partition] = int(meta[CommitKey.ROW_COUNT])
        if len(seen) >= count:
            break
    return list(seen.values())

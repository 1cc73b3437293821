"""Curated history for the ui tier, written straight to lakeFS ``main`` (cheap set-up, not under test).

The ETL itself is tested elsewhere and, in this tier, through the UI's form and backfill dialog; the days
seeded here only complete a training window (21 partitions for ``flights``). They are the partitions
the ETL writes for those days (built offline from the same source rows by the use case's transform).
"""

from __future__ import annotations

from datetime import date, timedelta

from include.common.usecase import load_usecase
from include.etl.partitions import to_parquet_bytes
from mlops.hooks.lakefs import LakeFSHook
from tests.support.source_data import partition


def seed_curated_days(usecase_name: str, first: date, last: date) -> str:
    """Write each day's curated partition on a branch, commit, merge into ``main``; return the merge."""
    usecase = load_usecase(usecase_name)
    hook = LakeFSHook(repository=usecase.lakefs_repository)
    hook.ensure_repository()
    branch = f"ui-seed-{first.isoformat()}"
    hook.create_branch(branch, source="main")
    day = first
    while day <= last:
        hook.upload(branch, usecase.partition_path(day), to_parquet_bytes(partition(usecase_name, day)))
        day += timedelta(days=1)
    metadata = {"seeded_by": "tests/ui", "first": first.isoformat(), "last": last.isoformat()}
    hook.commit(branch, f"ui tier: curated {usecase_name} {first}..{last} (seeded)", metadata)
    merge = hook.merge(branch, "main", f"Merge {branch}", metadata)
    hook.delete_branch(branch)
    return merge

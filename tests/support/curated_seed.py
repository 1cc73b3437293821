"""Curated history written straight to lakeFS ``main``: set-up for modules that test what comes after the
ETL (training, monitoring, the UI), not the ETL itself (tested through the scheduler in its own modules).

The seeded partitions are the ones the ETL writes for those days, built offline from the same source rows
by the use case's transform (``tests/support/source_data.py``); a 26-day ETL backfill through the
scheduler took 4-5 minutes of a test session, this takes seconds.
"""

from __future__ import annotations

from datetime import date, timedelta

from include.common.environments import usecase_names
from include.common.usecase import load_usecase
from include.etl.partitions import to_parquet_bytes
from mlops.hooks.lakefs import LakeFSHook
from tests.support.source_data import partition


def seed_curated_days(usecase_name: str, first: date, last: date) -> str:
    """Write each day's curated partition on a branch, commit, merge into ``main``; return the merge."""
    usecase = load_usecase(usecase_name)
    hook = LakeFSHook(repository=usecase_names(usecase).lakefs_repository)  # the environment's name
    hook.ensure_repository()
    branch = f"seed-{first.isoformat()}"
    hook.create_branch(branch, source="main")
    day = first
    while day <= last:
        hook.upload(branch, usecase.partition_path(day), to_parquet_bytes(partition(usecase_name, day)))
        day += timedelta(days=1)
    metadata = {"seeded_by": "tests", "first": first.isoformat(), "last": last.isoformat()}
    hook.commit(branch, f"test set-up: curated {usecase_name} {first}..{last} (seeded)", metadata)
    merge = hook.merge(branch, "main", f"Merge {branch}", metadata)
    hook.delete_branch(branch)
    return merge

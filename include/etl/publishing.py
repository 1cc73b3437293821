"""What the ETL tells the rest of the platform about a partition: the row-count bounds it is held
to, the evidence of a quarantined partition, and the Asset event of a published one.

History loads stay quiet: a backfill run publishes its partition on ``main`` like any run but
announces nothing (``announces``), so consumers such as ``train_<name>`` are not started once
per backfilled partition.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from include.common import datasets
from include.common.metadata import AssetExtra, CommitKey
from include.common.usecase import UseCase
from include.etl.partitions import row_count_bounds
from include.etl.windows import Partition

if TYPE_CHECKING:
    from lakefs import Repository

BACKFILL_RUN_TYPE = "backfill"  # Airflow's DagRunType.BACKFILL_JOB


def learned_row_count_bounds(repository: Repository, usecase: UseCase, exclude: date) -> tuple[int, int, str]:
    """Row-count bounds for a new partition, from the use case's last published partitions of its width."""
    limits = usecase.validation.row_count
    history = datasets.published_row_counts(repository, usecase, limits.history, exclude=exclude)
    return row_count_bounds(history, limits.default_min, limits.default_max, limits.tolerance)


def partition_commit_metadata(usecase: UseCase, partition: Partition, run: dict[str, str],
                              validation: dict[str, str], extracted: dict[str, Any]) -> dict[str, str]:
    """Metadata of a validated partition's commit: the run, the validation figures, the partition and its object."""
    return {**run, **validation, **partition.metadata(), CommitKey.USECASE: usecase.name,
            CommitKey.PARTITION_PATH: extracted["path"], CommitKey.PARTITION_SHA256: extracted["checksum"]}


def quarantine_metadata(usecase: UseCase, partition: Partition, run: dict[str, str],
                        validation: dict[str, str]) -> dict[str, str]:
    return {**run, **validation, **partition.metadata(), CommitKey.USECASE: usecase.name,
            CommitKey.QUARANTINE: "true"}


def quarantine_message(usecase: UseCase, start: date, failures: str, branch: str, commit_id: str, url: str) -> str:
    return (f"{usecase.name} partition {start} failed validation; main is untouched.\n{failures}\n"
            f"Evidence: lakeFS branch {branch!r} (commit {commit_id}) holds the partition and the "
            f"validation report under {usecase.validation_prefix(start)}/: {url}")


def conflict_message(usecase: UseCase, start: date, theirs: str | None, ours: str) -> str:
    return (f"{usecase.name} partition {start}: main changed this partition while the run was publishing "
            f"(main sha256 {theirs}, ours {ours}); main keeps the other run's version. Re-run the partition to "
            "publish this run's data.")


def run_type_name(run_type: object) -> str:
    """A run type as its value (``"backfill"``): the Task SDK's ``DagRunType`` prints as ``DagRunType.BACKFILL``."""
    return str(getattr(run_type, "value", run_type))


def announces(run_type: str) -> bool:
    """Whether a run of this type emits the curated dataset's Asset event (backfills do not)."""
    return run_type != BACKFILL_RUN_TYPE


def unannounced(run_type: str, published: dict[str, Any]) -> str | None:
    """Why a run of ``run_type`` does not announce the partition it ``published`` (a backfill); None when it does."""
    if announces(run_type):
        return None
    return (f"{run_type} run: partition {published['partition']} is published on main ({published['commit_id']}) "
            "but not announced, so a history load starts no training")


def announcement(usecase: UseCase, published: dict[str, Any], run_type: str) -> dict[str, Any]:
    """The ``curated_<name>`` Asset event's extra for a partition ``publish`` merged into ``main``."""
    return {AssetExtra.LAKEFS_REPOSITORY: usecase.lakefs_repository, AssetExtra.COMMIT_ID: published["commit_id"],
            AssetExtra.PARTITION: published["partition"], AssetExtra.PATH: published["path"],
            AssetExtra.ROWS: int(published["rows"]), AssetExtra.RUN_TYPE: run_type}

"""Operators of the write-audit-publish ETL: extract -> write on a run branch -> validate ->
commit -> merge into ``main``.

Each operator only stores its arguments in ``__init__``; the work happens in ``execute`` with
hooks built there, heavy libraries imported lazily, and domain logic in ``include/``. Every
step is idempotent, so a retried or re-run task finishes the job without duplicates.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk.exceptions import AirflowFailException

from mlops.hooks.lakefs import LakeFSHook
from mlops.links import LakeFSLink, push_link
from mlops.operators.base import InputError, UseCaseOperator

if TYPE_CHECKING:
    from include.common.usecase import UseCase
    from include.etl.validation import ValidationReport


class PartitionValidationError(AirflowFailException):
    """A partition failed its expectation suite; it is kept on a quarantine branch (never retried)."""


class PublishConflictError(AirflowFailException):
    """``main`` got a different version of the partition while this run was publishing."""


class PartitionDateError(InputError):
    """The run names no valid partition date (never retried)."""


class LakeFSOperator(UseCaseOperator):
    """Shared wiring: the use case, its partition date, the run branch and the lakeFS hook.

    ``partition_date`` is templated (the data interval's start, or the ``partition_date``
    param of a manual run); the run branch is ``etl-<use case>-<date>-<run id>``.
    """

    template_fields: Sequence[str] = ("partition_date",)
    operator_extra_links = (LakeFSLink(),)

    def __init__(self, *, partition_date: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.partition_date = partition_date
        self.branch = ""

    def prepare(self, context: Any) -> tuple[UseCase, date, LakeFSHook]:
        """Resolve the use case, the partition day, the run branch and the hook for this run."""
        from include.common.lineage import branch_name
        from include.etl.partitions import parse_partition_date

        usecase = self.load_usecase()
        try:
            day = parse_partition_date(self.partition_date)
        except ValueError as error:
            raise PartitionDateError(str(error)) from None
        self.branch = branch_name(f"etl-{usecase.name}-{day.isoformat()}", context["dag_run"].run_id)
        return usecase, day, self.lakefs(usecase)

    def record_link(self, context: Any, url: str) -> None:
        push_link(context, LakeFSLink, url)


class ExtractToBranchOperator(LakeFSOperator):
    """Extract one interval from the source, transform it, write its Parquet partition to the run branch."""

    def __init__(self, *, source_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_conn_id = source_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from include.etl.partitions import (
            SourceUnavailableError,
            checksum,
            extract_frames,
            to_parquet_bytes,
        )

        usecase, day, hook = self.prepare(context)
        conn_id = self.source_conn_id or usecase.source.connection_id
        try:
            connection = PostgresHook(postgres_conn_id=conn_id).get_conn()
        except Exception as error:
            raise SourceUnavailableError(f"source {conn_id!r} is unreachable: {error}") from error
        try:
            frames = extract_frames(connection, usecase.source.queries, day, usecase.source.timezone)
        finally:
            connection.close()
        partition = usecase.transform_function()(frames, day)
        payload = to_parquet_bytes(partition)
        hook.ensure_repository()
        base_commit = hook.recreate_branch(self.branch, source="main")
        path = usecase.partition_path(day)
        hook.upload(self.branch, path, payload, content_type="application/vnd.apache.parquet")
        self.record_link(context, hook.folder_url("main", path.rsplit("/", 1)[0] + "/"))
        self.log.info("wrote %d rows (%d bytes) to lakefs://%s/%s/%s", len(partition), len(payload),
                      usecase.lakefs_repository, self.branch, path)
        return {"branch": self.branch, "path": path, "rows": len(partition), "checksum": checksum(payload),
                "base_commit": base_commit, "source_rows": {k: len(v) for k, v in frames.items()}}


class ValidatePartitionOperator(LakeFSOperator):
    """Validate the partition on the run branch with GX; store the result beside it.

    On failure the branch is committed as evidence, kept as a quarantine branch, and the task
    fails with the failed expectations, the branch and the commit.
    """

    def execute(self, context: Any) -> dict[str, str]:
        from include.common.datasets import published_row_counts
        from include.etl.partitions import read_parquet_bytes, row_count_bounds
        from include.etl.validation import load_suite, validate_partition

        usecase, day, hook = self.prepare(context)
        frame = read_parquet_bytes(hook.download(self.branch, usecase.partition_path(day)))
        history = published_row_counts(hook.repository(), usecase, usecase.validation.row_count.history, exclude=day)
        limits = usecase.validation.row_count
        bounds = row_count_bounds(history, limits.default_min, limits.default_max, limits.tolerance)
        with tempfile.TemporaryDirectory() as docs:
            report = validate_partition(frame, load_suite(usecase.suite_path), bounds,
                                        examples=usecase.validation.examples, docs_dir=Path(docs))
            prefix = usecase.validation_prefix(day)
            hook.delete_prefix(self.branch, f"{prefix}/")  # a re-run replaces the report, never piles up
            hook.upload(self.branch, f"{prefix}/result.json", report.result_json.encode(), "application/json")
            hook.upload_folder(self.branch, Path(docs), f"{prefix}/data_docs")
        self.log.info("validation: %s (row count bounds %s, %s)", report.statistics(), report.row_count_bounds,
                      report.row_count_reason)
        if report.warnings:
            self.log.warning("non-blocking expectations unmet:\n%s", report.warning_summary())
        if report.success:
            self.record_link(context, hook.folder_url("main", f"{usecase.validation_prefix(day)}/"))
            return report.statistics()
        self.quarantine(context, hook, usecase, day, report)

    def quarantine(self, context: Any, hook: LakeFSHook, usecase: UseCase, day: date,
                   report: ValidationReport) -> NoReturn:
        from include.common.lineage import branch_name
        from include.common.metadata import CommitKey
        from mlops.run_context import metadata_from_context

        metadata = {**metadata_from_context(context), **report.statistics(), CommitKey.USECASE: usecase.name,
                    CommitKey.PARTITION: day.isoformat(), CommitKey.QUARANTINE: "true"}
        commit_id = hook.commit(self.branch, f"QUARANTINE {usecase.name} {day}: failed validation", metadata,
                                allow_empty=True)
        quarantine = branch_name(f"quarantine-{usecase.name}-{day.isoformat()}", context["dag_run"].run_id)
        hook.create_branch(quarantine, source=commit_id)
        if quarantine != self.branch:
            hook.delete_branch(self.branch)
        self.record_link(context, hook.commit_url(commit_id))
        raise PartitionValidationError(
            f"{usecase.name} partition {day} failed validation; main is untouched.\n{report.failure_summary()}\n"
            f"Evidence: lakeFS branch {quarantine!r} (commit {commit_id}) holds the partition and the "
            f"validation report under {usecase.validation_prefix(day)}/: {hook.branch_url(quarantine)}")


class CommitPartitionOperator(LakeFSOperator):
    """Commit the validated partition and its validation report with the run's metadata."""

    template_fields: Sequence[str] = (*LakeFSOperator.template_fields, "extract_result", "validation_stats")

    def __init__(self, *, extract_result: Any, validation_stats: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.extract_result = extract_result
        self.validation_stats = validation_stats

    def execute(self, context: Any) -> str:
        from include.common.metadata import CommitKey
        from include.etl.partitions import partition_metadata
        from mlops.run_context import metadata_from_context

        usecase, day, hook = self.prepare(context)
        metadata = {**metadata_from_context(context), **self.validation_stats,
                    **partition_metadata(day, usecase.source.timezone), CommitKey.USECASE: usecase.name,
                    CommitKey.PARTITION_PATH: self.extract_result["path"],
                    CommitKey.PARTITION_SHA256: self.extract_result["checksum"]}
        commit_id = hook.commit_once(self.branch, f"{usecase.name} partition {day}", metadata)
        self.record_link(context, hook.commit_url(commit_id))
        return commit_id


class PublishPartitionOperator(LakeFSOperator):
    """Merge the run branch into ``main``, delete it, and emit the dataset's Asset event.

    A merge conflict means another run of the same day published first: if ``main`` now holds
    an identical partition the job is done; otherwise the task fails without touching ``main``.
    """

    template_fields: Sequence[str] = (*LakeFSOperator.template_fields, "commit_id", "extract_result")

    def __init__(self, *, commit_id: Any, extract_result: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commit_id = commit_id
        self.extract_result = extract_result

    def execute(self, context: Any) -> dict[str, str]:
        from include.common.metadata import AssetExtra, CommitKey

        usecase, day, hook = self.prepare(context)
        run_id = context["dag_run"].run_id
        metadata = {**hook.commit_metadata(self.commit_id), CommitKey.SOURCE_COMMIT: self.commit_id}
        published = hook.find_merge(self.commit_id)  # a retry after the merge itself succeeded
        if published is None and hook.branch_exists(self.branch):
            published = self.merge(hook, usecase, day, metadata)
        if published is None:
            raise PublishConflictError(f"branch {self.branch} is gone and main has no merge of commit "
                                       f"{self.commit_id} (run {run_id}); re-run the day")
        hook.delete_branch(self.branch)
        self.record_link(context, hook.commit_url(published))
        for asset in self.outlets:
            context["outlet_events"][asset].extra = {
                AssetExtra.LAKEFS_REPOSITORY: usecase.lakefs_repository, AssetExtra.COMMIT_ID: published,
                AssetExtra.PARTITION: day.isoformat(), AssetExtra.PATH: self.extract_result["path"],
                AssetExtra.ROWS: int(self.extract_result["rows"]),
                AssetExtra.RUN_TYPE: str(context["dag_run"].run_type)}
        return {"commit_id": published, "partition": day.isoformat()}

    def merge(self, hook: LakeFSHook, usecase: UseCase, day: date, metadata: dict[str, str]) -> str | None:
        from lakefs.exceptions import ConflictException

        try:
            return hook.merge(self.branch, "main", f"Publish {usecase.name} partition {day}", metadata)
        except ConflictException:
            ours = self.extract_result["checksum"]
            theirs = hook.object_checksum("main", self.extract_result["path"])
            if theirs == ours:
                self.log.info("main already holds an identical partition %s (published concurrently)", day)
                return hook.head_commit("main")
            raise PublishConflictError(
                f"{usecase.name} partition {day}: main changed this partition while the run was publishing "
                f"(main sha256 {theirs}, ours {ours}); main keeps the other run's version. Re-run the day to "
                "publish this run's data.") from None

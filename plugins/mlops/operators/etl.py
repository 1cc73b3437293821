"""Operators of the write-audit-publish ETL: extract -> write on a run branch -> validate -> commit -> merge
into ``main`` -> announce (the Asset event; skipped in backfills). Work happens in ``execute`` (hooks built
there, heavy libraries imported lazily, domain logic in ``include/``); every step is idempotent."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk.exceptions import AirflowFailException

from mlops.hooks.lakefs import LakeFSHook
from mlops.links import LakeFSLink, push_link
from mlops.operators.base import InputError, UseCaseOperator, skip_downstream

if TYPE_CHECKING:
    from include.common.usecase import UseCase
    from include.etl.validation import ValidationReport
    from include.etl.windows import Partition


class PartitionValidationError(AirflowFailException):
    """A partition failed its expectation suite; it is kept on a quarantine branch (never retried)."""


class PublishConflictError(AirflowFailException):
    """``main`` got a different version of the partition while this run was publishing."""


class PartitionDateError(InputError):
    """The run names no valid partition date (never retried)."""


class LakeFSOperator(UseCaseOperator):
    """Shared wiring: the use case, the run's partition (the ``partition_date`` param of a manual run, else
    the run's data interval: ``include.etl.windows.resolve_partition``), the run branch
    ``etl-<use case>-<partition start>-<run id>`` and the lakeFS hook."""

    template_fields: Sequence[str] = ("partition_date", "data_interval_start", "data_interval_end")
    operator_extra_links = (LakeFSLink(),)

    def __init__(self, *, partition_date: str, data_interval_start: str = "", data_interval_end: str = "",
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.partition_date = partition_date
        self.data_interval_start = data_interval_start
        self.data_interval_end = data_interval_end
        self.branch = ""

    def prepare(self, context: Any) -> tuple[UseCase, Partition, LakeFSHook]:
        """Resolve the use case, the partition, the run branch and the hook for this run."""
        from include.common.lineage import branch_name
        from include.etl.windows import resolve_partition

        usecase = self.load_usecase()
        try:
            partition = resolve_partition(self.partition_date, self.data_interval_start, self.data_interval_end,
                                          usecase.partition_width, usecase.source.timezone, usecase.partition_range())
        except ValueError as error:
            raise PartitionDateError(f"{usecase.name}: {error}") from None
        self.branch = branch_name(f"etl-{usecase.name}-{partition.start.isoformat()}", context["dag_run"].run_id)
        return usecase, partition, self.lakefs(usecase)

    def record_link(self, context: Any, url: str) -> None:
        push_link(context, LakeFSLink, url)


class ExtractToBranchOperator(LakeFSOperator):
    """Extract one partition's window from the source, transform it, write its Parquet object to the run branch."""

    def __init__(self, *, source_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_conn_id = source_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        from include.etl.partitions import SourceUnavailableError, checksum, extract_frames, to_parquet_bytes

        usecase, partition, hook = self.prepare(context)
        conn_id = self.source_conn_id or usecase.source.connection_id
        try:
            connection = PostgresHook(postgres_conn_id=conn_id).get_conn()
        except Exception as error:
            raise SourceUnavailableError(f"source {conn_id!r} is unreachable: {error}") from error
        try:
            frames = extract_frames(connection, usecase.source.queries, partition.window, usecase.source.timezone)
        finally:
            connection.close()
        curated = usecase.transform_function()(frames, partition.start)
        payload = to_parquet_bytes(curated)
        hook.ensure_repository()
        base_commit = hook.recreate_branch(self.branch, source="main")
        path = usecase.partition_path(partition.start)
        hook.upload(self.branch, path, payload, content_type="application/vnd.apache.parquet")
        self.record_link(context, hook.folder_url("main", path.rsplit("/", 1)[0] + "/"))
        self.log.info("%s: %d rows (%d bytes) to lakefs://%s/%s/%s", partition, len(curated), len(payload),
                      hook.repository_id, self.branch, path)
        return {"branch": self.branch, "path": path, "rows": len(curated), "checksum": checksum(payload),
                "base_commit": base_commit, "source_rows": {k: len(v) for k, v in frames.items()}}


class ValidatePartitionOperator(LakeFSOperator):
    """Validate the partition on the run branch with GX; store the result beside it.

    On failure the branch is committed as evidence, kept as a quarantine branch, and the task
    fails with the failed expectations, the branch and the commit.
    """

    def execute(self, context: Any) -> dict[str, str]:
        from include.etl.partitions import read_parquet_bytes
        from include.etl.publishing import learned_row_count_bounds
        from include.etl.validation import load_suite, validate_and_document

        usecase, partition, hook = self.prepare(context)
        frame = read_parquet_bytes(hook.download(self.branch, usecase.partition_path(partition.start)))
        bounds = learned_row_count_bounds(hook.repository(), usecase, exclude=partition.start)
        prefix = usecase.validation_prefix(partition.start)
        with tempfile.TemporaryDirectory() as docs:
            report = validate_and_document(frame, load_suite(usecase.suite_path), bounds, Path(docs),
                                           usecase.validation, window=partition.window)
            hook.delete_prefix(self.branch, f"{prefix}/")  # a re-run replaces the report, never piles up
            hook.upload(self.branch, f"{prefix}/result.json", report.result_json.encode(), "application/json")
            hook.upload_folder(self.branch, Path(docs), f"{prefix}/data_docs")  # empty unless rendered
        self.log.info("validation: %s (row count bounds %s, %s)", report.statistics(), report.row_count_bounds,
                      report.row_count_reason)
        if report.warnings:
            self.log.warning("non-blocking expectations unmet:\n%s", report.warning_summary())
        if report.success:
            self.record_link(context, hook.folder_url("main", f"{prefix}/"))
            return report.statistics()
        self.quarantine(context, hook, usecase, partition, report)

    def quarantine(self, context: Any, hook: LakeFSHook, usecase: UseCase, partition: Partition,
                   report: ValidationReport) -> NoReturn:
        from include.common.lineage import branch_name
        from include.etl.publishing import quarantine_message, quarantine_metadata
        from mlops.run_context import metadata_from_context

        day = partition.start
        metadata = quarantine_metadata(usecase, partition, metadata_from_context(context), report.statistics())
        commit_id = hook.commit(self.branch, f"QUARANTINE {usecase.name} {day}: failed validation", metadata, True)
        quarantine = branch_name(f"quarantine-{usecase.name}-{day.isoformat()}", context["dag_run"].run_id)
        hook.recreate_branch(quarantine, source=commit_id)  # a cleared re-run replaces its evidence
        if quarantine != self.branch:
            hook.delete_branch(self.branch)
        self.record_link(context, hook.commit_url(commit_id))
        raise PartitionValidationError(quarantine_message(usecase, day, report.failure_summary(), quarantine,
                                                          commit_id, hook.branch_url(quarantine)))


class CommitPartitionOperator(LakeFSOperator):
    """Commit the validated partition and its validation report with the run's metadata."""

    template_fields: Sequence[str] = (*LakeFSOperator.template_fields, "extract_result", "validation_stats")

    def __init__(self, *, extract_result: Any, validation_stats: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.extract_result = extract_result
        self.validation_stats = validation_stats

    def execute(self, context: Any) -> str:
        from include.etl.publishing import partition_commit_metadata
        from mlops.run_context import metadata_from_context

        usecase, partition, hook = self.prepare(context)
        metadata = partition_commit_metadata(usecase, partition, metadata_from_context(context), self.validation_stats,
                                             self.extract_result)
        commit_id = hook.commit_once(self.branch, f"{usecase.name} partition {partition.start}", metadata)
        self.record_link(context, hook.commit_url(commit_id))
        return commit_id


class PublishPartitionOperator(LakeFSOperator):
    """Merge the run branch into ``main`` and delete it; return what ``announce`` tells consumers.

    A merge conflict means another run of the same partition published first: if ``main`` now
    holds an identical partition the job is done; otherwise the task fails without touching ``main``.
    A backfill run's publish skips ``announce``, so that no task process starts for it.
    """

    template_fields: Sequence[str] = (*LakeFSOperator.template_fields, "commit_id", "extract_result")

    def __init__(self, *, commit_id: Any, extract_result: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.commit_id = commit_id
        self.extract_result = extract_result

    def execute(self, context: Any) -> dict[str, Any]:
        from include.common.metadata import CommitKey
        from include.etl.publishing import run_type_name, unannounced

        usecase, partition, hook = self.prepare(context)
        metadata = {**hook.commit_metadata(self.commit_id), CommitKey.SOURCE_COMMIT: self.commit_id}
        published = hook.find_merge(self.commit_id)  # a retry after the merge itself succeeded
        if published is None and hook.branch_exists(self.branch):
            published = self.merge(hook, usecase, partition, metadata)
        if published is None:
            raise PublishConflictError(f"branch {self.branch} is gone and main has no merge of commit "
                                       f"{self.commit_id} (run {context['dag_run'].run_id}); re-run the partition")
        hook.delete_branch(self.branch)
        self.record_link(context, hook.commit_url(published))
        result = {"commit_id": published, "partition": partition.start.isoformat(),
                  "path": self.extract_result["path"], "rows": int(self.extract_result["rows"])}
        reason = unannounced(run_type_name(context["dag_run"].run_type), result)
        if reason:
            self.log.info("%s (announce skipped)", reason)
            skip_downstream(self, context, result)
        return result

    def merge(self, hook: LakeFSHook, usecase: UseCase, partition: Partition, metadata: dict[str, str]) -> str | None:
        from lakefs.exceptions import ConflictException

        from include.etl.publishing import conflict_message

        try:
            return hook.merge(self.branch, "main", f"Publish {usecase.name} partition {partition.start}", metadata)
        except ConflictException:
            ours = self.extract_result["checksum"]
            theirs = hook.object_checksum("main", self.extract_result["path"])
            if theirs == ours:
                self.log.info("main already holds an identical partition %s (published concurrently)", partition.start)
                return hook.head_commit("main")
            raise PublishConflictError(conflict_message(usecase, partition.start, theirs, ours)) from None


class AnnounceCuratedOperator(UseCaseOperator):
    """Emit the ``curated_<name>`` Asset event for a published partition (its outlet), with the lakeFS commit
    in the extra. Never in a backfill run (``publish`` skips it; checked again here for a cleared task): a
    history load starts no downstream run; manual and scheduled runs announce every partition."""

    template_fields: Sequence[str] = ("published",)

    def __init__(self, *, published: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.published = published

    def execute(self, context: Any) -> dict[str, Any]:
        from include.etl.publishing import announcement, run_type_name, unannounced

        run_type = run_type_name(context["dag_run"].run_type)
        reason = unannounced(run_type, self.published)
        if reason:
            self.skip(reason)
        extra = announcement(self.load_usecase(), self.published, run_type)
        for asset in self.outlets:
            context["outlet_events"][asset].extra = extra
        return extra

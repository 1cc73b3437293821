"""The ETL operators' branches that otherwise only the scheduler reaches (retries, concurrent runs of
one day, failed validation), run in-process with a stub context and an in-memory lakeFS."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from include.common.lineage import branch_name
from include.common.metadata import AssetExtra, CommitKey, RunKey
from include.common.usecase import load_usecase
from include.etl.partitions import checksum, to_parquet_bytes
from include.etl.validation import FailedExpectation, ValidationReport
from mlops.assets import curated_asset
from mlops.operators.etl import (
    AnnounceCuratedOperator,
    CommitPartitionOperator,
    PartitionValidationError,
    PublishConflictError,
    PublishPartitionOperator,
    ValidatePartitionOperator,
)
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS, stub_context

USECASE = load_usecase("flights")
DAY = date(2013, 3, 4)
PATH = USECASE.partition_path(DAY)
RUN_ID = "manual__2013-03-05T10:00:00+00:00"
BRANCH = branch_name(f"etl-flights-{DAY}", RUN_ID)
PARTITION = to_parquet_bytes(pd.DataFrame({"flight_date": [DAY.isoformat()] * 3, "flight": [1, 2, 3]}))
EXTRACT_RESULT = {"branch": BRANCH, "path": PATH, "rows": 3, "checksum": checksum(PARTITION)}
ASSET = curated_asset(USECASE)


def context(task_id: str, run_type: str = "manual") -> dict[str, Any]:
    return stub_context(task_id=task_id, run_id=RUN_ID, run_type=run_type)


def written_and_committed(lakefs: FakeLakeFS, data: bytes = PARTITION) -> str:
    """The state after extract, validate and commit: the run branch holds the committed partition."""
    lakefs.create_branch(BRANCH, "main")
    lakefs.upload(BRANCH, PATH, data)
    return lakefs.commit(BRANCH, "flights partition", {RunKey.RUN_ID: RUN_ID, CommitKey.PARTITION: DAY.isoformat(),
                                                       CommitKey.ROW_COUNT: "3"})


def publish_operator(commit_id: str) -> PublishPartitionOperator:
    return PublishPartitionOperator(task_id="publish", usecase="flights", partition_date=DAY.isoformat(),
                                    commit_id=commit_id, extract_result=EXTRACT_RESULT)


def merges(lakefs: FakeLakeFS) -> int:
    return sum(1 for name, _ in lakefs.calls if name == "merge")


def test_publish_merges_into_main_deletes_the_branch_and_returns_what_announce_needs(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    ctx = context("publish", run_type="scheduled")
    result = publish_operator(commit_id).execute(ctx)
    merged = lakefs.head_commit("main")
    assert result == {"commit_id": merged, "partition": "2013-03-04", "path": PATH, "rows": 3}
    assert lakefs.download("main", PATH) == PARTITION and not lakefs.branch_exists(BRANCH)
    assert lakefs.commit_metadata(merged) == {RunKey.RUN_ID: RUN_ID, CommitKey.PARTITION: "2013-03-04",
                                              CommitKey.ROW_COUNT: "3", CommitKey.SOURCE_COMMIT: commit_id}
    assert ctx["ti"].xcoms["lakefs_url"] == lakefs.commit_url(merged)


def test_a_backfill_publish_skips_announce_so_the_scheduler_never_starts_it(lakefs: FakeLakeFS) -> None:
    from datetime import datetime

    from airflow.sdk import DAG
    from airflow.sdk.exceptions import DownstreamTasksSkipped

    commit_id = written_and_committed(lakefs)
    with DAG("etl_flights", schedule=None, start_date=datetime(2013, 1, 1)):
        publish = publish_operator(commit_id)
        publish >> AnnounceCuratedOperator(task_id="announce", usecase="flights", published={}, outlets=[ASSET])
    ctx = context("publish", run_type="backfill")
    with pytest.raises(DownstreamTasksSkipped) as skipped:
        publish.execute(ctx)
    assert skipped.value.tasks == ["announce"]
    assert ctx["ti"].xcoms["return_value"]["commit_id"] == lakefs.head_commit("main")  # published all the same


def test_a_conflict_with_an_identical_partition_is_success_without_a_second_version(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    other_run = lakefs._main_gets({PATH: PARTITION}, {CommitKey.PARTITION: "2013-03-04"})  # same bytes, first
    lakefs.conflict_on_merge = True
    ctx = context("publish")
    result = publish_operator(commit_id).execute(ctx)
    assert merges(lakefs) == 1 and result["commit_id"] == other_run == lakefs.head_commit("main")
    assert lakefs.log["main"][0] == other_run and len(lakefs.log["main"]) == 2  # no new version on main
    assert not lakefs.branch_exists(BRANCH)
    announce = AnnounceCuratedOperator(task_id="announce", usecase="flights", published=result, outlets=[ASSET])
    announce.execute(ctx)  # the run still announces the partition, at the commit that holds it
    assert ctx["outlet_events"][ASSET].extra[AssetExtra.COMMIT_ID] == other_run


def test_a_conflict_with_a_different_partition_fails_and_leaves_main_alone(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    theirs = to_parquet_bytes(pd.DataFrame({"flight_date": [DAY.isoformat()], "flight": [9]}))
    other_run = lakefs._main_gets({PATH: theirs})
    lakefs.conflict_on_merge = True
    ctx = context("publish")
    with pytest.raises(PublishConflictError, match="main changed this partition") as error:
        publish_operator(commit_id).execute(ctx)
    assert f"main sha256 {checksum(theirs)}, ours {checksum(PARTITION)}" in str(error.value)
    assert lakefs.head_commit("main") == other_run and lakefs.download("main", PATH) == theirs
    assert lakefs.branch_exists(BRANCH)  # this run's data stays on its branch


def test_a_retry_after_the_merge_succeeded_does_not_merge_again(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    first = publish_operator(commit_id).execute(context("publish"))  # merged, then the worker died
    retry_context = context("publish")
    retry = publish_operator(commit_id).execute(retry_context)
    assert retry == first and merges(lakefs) == 1


def test_a_retry_after_a_merge_whose_branch_was_not_deleted_only_cleans_up(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    merged = lakefs.merge(BRANCH, "main", "Publish", {CommitKey.SOURCE_COMMIT: commit_id})  # crash before delete
    result = publish_operator(commit_id).execute(context("publish"))
    assert result["commit_id"] == merged and merges(lakefs) == 1 and not lakefs.branch_exists(BRANCH)


def test_publish_without_the_branch_or_a_merge_asks_for_a_rerun(lakefs: FakeLakeFS) -> None:
    commit_id = written_and_committed(lakefs)
    lakefs.delete_branch(BRANCH)
    with pytest.raises(PublishConflictError, match=f"branch {BRANCH} is gone and main has no merge"):
        publish_operator(commit_id).execute(context("publish"))
    assert merges(lakefs) == 0


def commit_operator() -> CommitPartitionOperator:
    return CommitPartitionOperator(task_id="commit", usecase="flights", partition_date=DAY.isoformat(),
                                   extract_result=EXTRACT_RESULT,
                                   validation_stats={CommitKey.VALIDATION_SUCCESS: "true", CommitKey.ROW_COUNT: "3"})


def test_commit_records_lineage_and_a_retry_reuses_the_commit(lakefs: FakeLakeFS) -> None:
    lakefs.create_branch(BRANCH, "main")
    lakefs.upload(BRANCH, PATH, PARTITION)
    ctx = context("commit")
    first = commit_operator().execute(ctx)
    metadata = lakefs.commit_metadata(first)
    assert metadata[RunKey.RUN_ID] == RUN_ID and metadata[RunKey.TASK_ID] == "commit"
    assert metadata[CommitKey.PARTITION_SHA256] == checksum(PARTITION) and metadata[CommitKey.PARTITION_PATH] == PATH
    assert metadata[CommitKey.PARTITION] == "2013-03-04" and metadata[CommitKey.VALIDATION_SUCCESS] == "true"
    assert metadata[CommitKey.PARTITION_START] == "2013-03-04T00:00:00-05:00"
    assert commit_operator().execute(context("commit")) == first  # the retry finds its commit at the head
    assert [call for call in lakefs.calls if call[0] == "commit"] == [("commit", (BRANCH, first))]
    assert ctx["ti"].xcoms["lakefs_url"] == lakefs.commit_url(first)


def failing_report(frame: pd.DataFrame) -> ValidationReport:
    failure = FailedExpectation("expect_column_values_to_be_in_set", {"column": "carrier", "value_set": ["AA"]},
                                2, len(frame), None, ["ZZ"], None)
    return ValidationReport(success=False, evaluated=2, successful=1, row_count=len(frame),
                            row_count_bounds=(400, 1500), row_count_reason="configured defaults", failed=[failure],
                            result_json='{"success": false}')


def test_a_failed_validation_quarantines_the_branch_and_fails_with_the_summary(
        lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    main_before = lakefs.head_commit("main")
    lakefs.create_branch(BRANCH, "main")
    lakefs.upload(BRANCH, PATH, PARTITION)
    seen: dict[str, Any] = {}

    def fake_validate(frame: pd.DataFrame, suite: dict[str, Any], bounds: tuple[int, int, str],
                      **kwargs: Any) -> ValidationReport:
        seen.update(rows=len(frame), suite=suite["name"], bounds=bounds)
        if kwargs.get("docs_dir"):  # a failure is rendered as Data Docs too
            (kwargs["docs_dir"] / "index.html").write_text("<html>failed</html>")
        return failing_report(frame)

    monkeypatch.setattr("include.etl.validation.validate_partition", fake_validate)
    monkeypatch.setattr("include.common.datasets.published_row_counts", lambda *args, **kwargs: [])
    operator = ValidatePartitionOperator(task_id="validate", usecase="flights", partition_date=DAY.isoformat())
    ctx = context("validate")
    with pytest.raises(PartitionValidationError) as error:
        operator.execute(ctx)

    quarantine = branch_name(f"quarantine-flights-{DAY}", RUN_ID)
    evidence = lakefs.head_commit(quarantine)
    message = str(error.value)
    assert failing_report(pd.DataFrame({"a": [1, 2, 3]})).failure_summary() in message
    assert f"lakeFS branch {quarantine!r} (commit {evidence})" in message and "main is untouched" in message
    assert seen == {"rows": 3, "suite": "flights", "bounds": (400, 1500, "configured defaults (no published "
                                                                         "partitions yet)")}
    metadata = lakefs.commit_metadata(evidence)
    assert metadata[CommitKey.QUARANTINE] == "true" and metadata[CommitKey.VALIDATION_SUCCESS] == "false"
    assert metadata[CommitKey.PARTITION] == "2013-03-04" and metadata[RunKey.RUN_ID] == RUN_ID
    prefix = USECASE.validation_prefix(DAY)
    assert lakefs.download(evidence, PATH) == PARTITION
    assert lakefs.download(evidence, f"{prefix}/result.json") == b'{"success": false}'
    assert lakefs.download(evidence, f"{prefix}/data_docs/index.html") == b"<html>failed</html>"
    assert not lakefs.branch_exists(BRANCH) and lakefs.head_commit("main") == main_before
    assert ctx["ti"].xcoms["lakefs_url"] == lakefs.commit_url(evidence)

    # a cleared re-run of the same run (same run id) fails again: the quarantine branch shows its new evidence
    lakefs.create_branch(BRANCH, "main")
    lakefs.upload(BRANCH, PATH, PARTITION)
    with pytest.raises(PartitionValidationError) as again:
        operator.execute(context("validate"))
    newer = lakefs.head_commit(quarantine)
    assert newer != evidence and f"(commit {newer})" in str(again.value)


def test_a_passed_validation_replaces_an_earlier_report_and_returns_its_statistics(
        lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = USECASE.validation_prefix(DAY)
    lakefs.create_branch(BRANCH, "main")
    lakefs.upload(BRANCH, PATH, PARTITION)
    lakefs.upload(BRANCH, f"{prefix}/data_docs/old.html", b"an earlier try's report")
    report = ValidationReport(success=True, evaluated=2, successful=2, row_count=3, row_count_bounds=(1, 10),
                              row_count_reason="learned", result_json='{"success": true}')
    rendered: list[Any] = []

    def fake_validate(*args: Any, **kwargs: Any) -> ValidationReport:
        rendered.append(kwargs.get("docs_dir"))
        return report

    monkeypatch.setattr("include.etl.validation.validate_partition", fake_validate)
    monkeypatch.setattr("include.common.datasets.published_row_counts", lambda *args, **kwargs: [5, 6])
    operator = ValidatePartitionOperator(task_id="validate", usecase="flights", partition_date=DAY.isoformat())
    assert operator.execute(context("validate")) == report.statistics()
    assert sorted(p for p in lakefs.staged[BRANCH] if p.startswith(prefix)) == [f"{prefix}/result.json"]
    assert rendered == [None]  # passing partitions keep the JSON result; Data Docs are for failures
    assert lakefs.branch_exists(BRANCH) and not any(name == "commit" for name, _ in lakefs.calls)

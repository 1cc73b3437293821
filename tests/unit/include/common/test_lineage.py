import re

from include.common.lineage import branch_name, code_version, run_metadata


def test_branch_name_replaces_characters_lakefs_rejects() -> None:
    name = branch_name("etl", "manual__2026-11-27T15:50:11.214579+00:00")
    assert name == "etl-manual__2026-11-27T15-50-11-214579-00-00"
    for run_id in ("asset_triggered__2026-11-27T15:50:11+00:00_a1b2", "manual__ümlaut run/../x", "--x--"):
        assert re.fullmatch(r"[A-Za-z0-9_][-A-Za-z0-9_]*", branch_name("etl", run_id)), run_id


def test_branch_name_is_bounded_and_never_ends_with_a_dash() -> None:
    name = branch_name("p", "x" * 50 + "-" * 200, max_length=40)
    assert len(name) <= 40 and not name.endswith("-")


def test_run_metadata_is_string_only_and_drops_missing_dates(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MLOPS_GIT_REVISION", "abc123")
    metadata = run_metadata(dag_id="d", run_id="r", task_id="t", logical_date=None,
                            interval_start="2013-01-01T00:00:00+00:00", interval_end=None)
    assert metadata == {"airflow_dag_id": "d", "airflow_run_id": "r", "airflow_task_id": "t",
                        "airflow_data_interval_start": "2013-01-01T00:00:00+00:00", "code_version": "abc123"}


def test_code_version_reads_git_when_not_pinned(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("MLOPS_GIT_REVISION", raising=False)
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", code_version())


def test_code_version_reads_the_images_revision_file(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The container image has no .git: ``make images`` writes the revision into ``/opt/mlops/REVISION``."""
    monkeypatch.delenv("MLOPS_GIT_REVISION", raising=False)
    (tmp_path / "REVISION").write_text("0123abcd-dirty\n")
    assert code_version(tmp_path) == "0123abcd-dirty"
    monkeypatch.setenv("MLOPS_GIT_REVISION", "pinned")
    assert code_version(tmp_path) == "pinned"

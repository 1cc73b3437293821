"""The GX validation wrapper on small frames (real Great Expectations, no servers)."""

from pathlib import Path

import pandas as pd

from include.etl.validation import validate_partition

SUITE = {"name": "t", "expectations": [
    {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}},
    {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "s", "value_set": ["x", "y"]}},
    {"type": "expect_column_values_to_be_between", "kwargs": {"column": "a", "min_value": 0, "max_value": 10}},
]}


def test_a_good_frame_passes_with_statistics() -> None:
    report = validate_partition(pd.DataFrame({"a": [1, 2], "s": ["x", "y"]}), SUITE, (1, 5, "defaults"))
    assert report.success and report.evaluated == 4 and report.failed == []
    assert report.statistics()["validation_success"] == "true"


def test_failures_name_expectations_counts_and_examples(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 99, None], "s": ["x", "zz", "zz"]})
    report = validate_partition(frame, SUITE, (5, 10, "learned"), docs_dir=tmp_path)
    assert not report.success
    summary = report.failure_summary()
    assert "4 of 4 expectations failed on 3 rows" in summary
    assert "expect_column_values_to_be_in_set(s) - 2 of 3 rows fail" in summary and '"zz"' in summary
    assert "expect_table_row_count_to_be_between - observed 3; min 5; max 10" in summary
    [page] = tmp_path.rglob("validations/**/*.html")  # one Data Docs page for this validation run
    assert "zz" in page.read_text() and page.name in (tmp_path / "index.html").read_text()


def test_a_missing_column_is_a_failure_not_a_crash() -> None:
    report = validate_partition(pd.DataFrame({"s": ["x"]}), SUITE, (1, 5, "defaults"))
    assert not report.success and any(f.error for f in report.failed)


def test_warning_severity_is_reported_but_does_not_fail() -> None:
    suite = {"name": "w", "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "a"}, "meta": {"severity": "warning"}}]}
    report = validate_partition(pd.DataFrame({"a": [1, None]}), suite, (1, 5, "defaults"))
    assert report.success and report.failed == []
    assert len(report.warnings) == 1 and report.statistics()["validation_warnings"] == "1"
    assert "warning: expect_column_values_to_not_be_null(a)" in report.warning_summary()

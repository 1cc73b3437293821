"""The GX validation wrapper on small frames (real Great Expectations, no servers)."""

from pathlib import Path

import pandas as pd

from include.common.usecase import RowCountConfig, ValidationConfig
from include.etl.validation import validate_and_document, validate_partition

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


RELATION = {"name": "r", "expectations": [
    {"type": "expect_column_values_to_be_null", "description": "no b where a is 0",
     "kwargs": {"column": "b", "row_condition": "a == 0", "condition_parser": "pandas"}}]}
CONFIG = ValidationConfig(suite="r.json", row_count=RowCountConfig(default_min=1, default_max=9))


def test_a_passing_partition_keeps_basic_results_and_renders_no_docs(tmp_path: Path) -> None:
    report = validate_and_document(pd.DataFrame({"a": [0, 1], "b": [None, 2.0]}), RELATION, (1, 9, "x"),
                                   tmp_path, CONFIG)
    assert report.success and "partial_unexpected_index_list" not in report.result_json  # BASIC
    assert '"unexpected_count": 0' in report.result_json  # BASIC still counts
    assert not any(tmp_path.iterdir())


def test_an_unmet_rule_is_validated_again_with_example_rows_and_docs(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [0, 0, 1], "b": [None, 5.0, 7.0]})
    report = validate_and_document(frame, RELATION, (1, 9, "x"), tmp_path, CONFIG)
    assert not report.success and "partial_unexpected_index_list" in report.result_json  # SUMMARY
    assert report.failed[0].examples == [{"a": 0, "b": 5.0}]  # the failing row, from SUMMARY's index list
    assert list(tmp_path.rglob("validations/**/*.html"))

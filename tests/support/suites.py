"""Run a use case's shipped expectation suite on one real day (from ``source_data``), with defects."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pandas as pd

from include.common.usecase import UseCase
from include.etl.validation import FailedExpectation, ValidationReport, load_suite, validate_partition

Frames = dict[str, pd.DataFrame]


def validate_day(usecase: UseCase, day: object, source: Frames, defect: Callable[[Frames], None] | None = None,
                 after_transform: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> ValidationReport:
    """The partition the ETL builds from (a copy of) ``source``, with ``defect`` injected into the source
    frames or ``after_transform`` applied to the partition, validated as the ETL validates it on the
    first day of a dataset (the use case's default row-count bounds); no Data Docs (fast)."""
    frames = copy.deepcopy(source)
    if defect is not None:
        defect(frames)
    partition = usecase.transform_function()(frames, day)
    if after_transform is not None:
        partition = after_transform(partition)
    limits = usecase.validation.row_count
    return validate_partition(partition, load_suite(usecase.suite_path),
                              (limits.default_min, limits.default_max, "configured defaults"),
                              examples=usecase.validation.examples, docs_dir=None)


def columns_of(failure: FailedExpectation) -> list[str]:
    """The columns an expectation is about, none for table-level ones."""
    kwargs = failure.kwargs
    named = [kwargs.get("column"), kwargs.get("column_A"), kwargs.get("column_B"), *(kwargs.get("column_list") or [])]
    return [str(column) for column in named if column]


def target(failure: FailedExpectation) -> str:
    """The column(s) an expectation is about, "" for table-level ones."""
    return ",".join(columns_of(failure))


def unmet(failures: list[FailedExpectation]) -> set[tuple[str, str]]:
    return {(failure.expectation, target(failure)) for failure in failures}


def about_other_columns(failures: list[FailedExpectation], columns: set[str]) -> list[str]:
    """Failures that concern none of ``columns`` (by their column(s) or their row condition; "" stands
    for table-level expectations): a defect in those columns must not make anything else fail."""
    def concerns(failure: FailedExpectation) -> bool:
        condition = str(failure.kwargs.get("row_condition") or "")
        named = set(columns_of(failure)) | {target(failure)}
        return bool(named & columns) or any(column and column in condition for column in columns)

    return [failure.describe() for failure in failures if not concerns(failure)]

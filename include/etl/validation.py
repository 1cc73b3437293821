"""Validate a curated partition with Great Expectations (GX Core 1.x, ephemeral context).

The suite is a GX expectation-suite JSON file. Two expectations are added at run time, because
only the run knows them: a row count with bounds learned from recent partitions, and (when the
caller passes the partition's source window) that the columns the suite names in
``meta.partition_window`` lie inside that window. GX returns a result and never raises: callers
decide what a failure means (the ETL quarantines the partition and fails the task).

Relationship rules (data contracts between columns) are ordinary GX expectations with a pandas
``row_condition``, or column-pair / multicolumn expectations, each with a ``description``. For
those, the failure summary shows the description and example *rows* (the columns the rule
involves), not only the judged column's values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from numbers import Integral
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from include.common.metadata import CommitKey
from include.common.usecase import ValidationConfig

ResultDetail = Literal["BASIC", "SUMMARY"]


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str
    kwargs: dict[str, Any]
    unexpected_count: int | None
    element_count: int | None
    observed: Any
    examples: list[Any]
    error: str | None
    description: str | None = None

    def describe(self) -> str:
        target: Any = self.kwargs.get("column") or self.kwargs.get("column_list") or self.kwargs.get("column_set") or ""
        if "column_A" in self.kwargs:
            target = f"{self.kwargs['column_A']}, {self.kwargs['column_B']}"
        if isinstance(target, list) and len(target) > 6:
            target = f"{len(target)} columns"
        head = f"{self.expectation}({target})" if target else self.expectation
        parts = [f'{head} "{self.description}"' if self.description else head]
        if self.error:
            parts.append(f"error: {self.error}")
        condition = row_condition(self.kwargs)
        if self.unexpected_count is not None and condition and self.description:  # the description says which rows
            parts.append(f"{self.unexpected_count} row{'' if self.unexpected_count == 1 else 's'} fail")
        elif self.unexpected_count is not None and condition:
            parts.append(f"{self.unexpected_count} of {self.element_count} rows where {condition} fail")
        elif self.unexpected_count is not None:
            parts.append(f"{self.unexpected_count} of {self.element_count} rows fail")
        if self.observed is not None and self.unexpected_count is None:
            parts.append(f"observed {summarise(self.observed)}")
        for bound in ("min_value", "max_value"):
            if bound in self.kwargs:
                parts.append(f"{bound.split('_')[0]} {self.kwargs[bound]}")
        if "value_set" in self.kwargs:
            parts.append(f"allowed {summarise(self.kwargs['value_set'])}")
        if "type_list" in self.kwargs:
            parts.append(f"allowed types {self.kwargs['type_list']}")
        if self.examples:
            rows = all(isinstance(example, dict) for example in self.examples)
            parts.append(f"{'example rows' if rows else 'examples'} {summarise(self.examples, 480 if rows else 160)}")
        return ": ".join(parts[:1]) + (" - " + "; ".join(parts[1:]) if parts[1:] else "")


def row_condition(kwargs: dict[str, Any]) -> str | None:
    """An expectation's pandas row condition (GX 1.x stores it as a string or as a pass-through filter)."""
    condition = kwargs.get("row_condition")
    if isinstance(condition, dict):
        condition = condition.get("pass_through_filter")
    return str(condition) if condition else None


def summarise(value: Any, limit: int = 160) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True)
class ValidationReport:
    success: bool
    evaluated: int
    successful: int
    row_count: int
    row_count_bounds: tuple[int, int]
    row_count_reason: str
    failed: list[FailedExpectation] = field(default_factory=list)
    warnings: list[FailedExpectation] = field(default_factory=list)
    result_json: str = "{}"

    def statistics(self) -> dict[str, str]:
        """String-only figures for lakeFS commit metadata."""
        return {
            CommitKey.VALIDATION_SUCCESS: str(self.success).lower(),
            CommitKey.VALIDATION_EVALUATED: str(self.evaluated),
            CommitKey.VALIDATION_SUCCESSFUL: str(self.successful),
            CommitKey.VALIDATION_FAILED: str(len(self.failed)),
            CommitKey.VALIDATION_WARNINGS: str(len(self.warnings)),
            CommitKey.ROW_COUNT: str(self.row_count),
            CommitKey.ROW_COUNT_BOUNDS: f"{self.row_count_bounds[0]}-{self.row_count_bounds[1]}",
        }

    def warning_summary(self) -> str:
        return "\n".join(f"  - warning: {warning.describe()}" for warning in self.warnings)

    def failure_summary(self) -> str:
        lines = [f"{len(self.failed)} of {self.evaluated} expectations failed on {self.row_count} rows:"]
        lines += [f"  - {failure.describe()}" for failure in self.failed]
        return "\n".join(lines)


def load_suite(path: Path) -> dict[str, Any]:
    suite: dict[str, Any] = json.loads(path.read_text())
    return suite


def with_row_count(suite: dict[str, Any], low: int, high: int) -> dict[str, Any]:
    expectation = {"type": "expect_table_row_count_to_be_between",
                   "kwargs": {"min_value": low, "max_value": high}}
    return {**suite, "expectations": [*suite["expectations"], expectation]}


def with_window(suite: dict[str, Any], window: tuple[datetime, datetime]) -> dict[str, Any]:
    """``suite`` plus, for each column its ``meta.partition_window`` names, an expectation that the
    column's values lie in the partition's source window ``[start, end)`` (aware datetimes).

    ``{"column": c, "kind": "timestamp"}``: ``start <= c < end``; ``{"column": c, "kind": "date"}``
    (ISO date strings): ``c`` is one of the local dates the window covers.
    """
    start, end = window
    added = []
    for spec in (suite.get("meta") or {}).get("partition_window", []):
        column, kind = spec["column"], spec.get("kind", "timestamp")
        description = f"{column} lies in the partition's window [{start.isoformat()}, {end.isoformat()})"
        if kind == "timestamp":
            added.append({"type": "expect_column_values_to_be_between", "description": description,
                          "kwargs": {"column": column, "min_value": start.isoformat(), "max_value": end.isoformat(),
                                     "strict_max": True}})
        elif kind == "date":
            added.append({"type": "expect_column_values_to_be_in_set", "description": description,
                          "kwargs": {"column": column, "value_set": window_dates(start, end)}})
        else:
            raise ValueError(f"suite {suite.get('name')!r}: partition_window kind {kind!r} is not timestamp or date")
    return {**suite, "expectations": [*suite["expectations"], *added]}


def window_dates(start: datetime, end: datetime) -> list[str]:
    """The ISO dates of the local days that ``[start, end)`` touches (in ``start``'s time zone)."""
    days, day = [], start.date()
    while datetime.combine(day, time(), start.tzinfo) < end:
        days.append(day.isoformat())
        day += timedelta(days=1)
    return days


def exception_message(info: dict[str, Any]) -> str | None:
    """GX reports errors either flat or per metric; return the first message, shortened."""
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") and candidate.get("exception_message"):
            return str(candidate["exception_message"]).splitlines()[0][:300]
    return None


def failed_expectation(result: Any, examples: int, frame: pd.DataFrame | None = None) -> FailedExpectation:
    config = result.expectation_config
    details = result.result or {}
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    error = exception_message(result.exception_info or {})
    values = details.get("partial_unexpected_list") or []
    rows = example_rows(frame, kwargs, details.get("partial_unexpected_index_list") or [])
    return FailedExpectation(
        expectation=config.type, kwargs=kwargs, unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"), observed=details.get("observed_value"),
        examples=distinct(rows or values)[:examples], error=error, description=getattr(config, "description", None))


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def example_rows(frame: pd.DataFrame | None, kwargs: dict[str, Any], index: list[Any]) -> list[dict[str, Any]]:
    """For a rule with a row condition, the failing rows restricted to the columns the rule involves
    (the judged column and every column its condition names); otherwise nothing."""
    condition = row_condition(kwargs)
    if frame is None or not condition or not index or not all(isinstance(i, Integral) for i in index):
        return []
    named = {kwargs.get("column"), *IDENTIFIER.findall(condition)}
    columns = [column for column in frame.columns if column in named]
    rows = frame.loc[frame.index.intersection(index), columns]
    records: list[dict[str, Any]] = json.loads(rows.to_json(orient="records", date_format="iso"))
    return records


def distinct(values: list[Any]) -> list[Any]:
    """Values in first-seen order without repeats (examples read better that way)."""
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(json.dumps(value, default=str, sort_keys=True), value)
    return list(seen.values())


def validate_partition(frame: pd.DataFrame, suite: dict[str, Any], row_bounds: tuple[int, int, str],
                       examples: int = 5, docs_dir: Path | None = None,
                       window: tuple[datetime, datetime] | None = None,
                       detail: ResultDetail = "SUMMARY") -> ValidationReport:
    """Run ``suite`` (plus the row-count bounds, and the partition ``window`` checks when given:
    see ``with_window``) on ``frame``; write Data Docs HTML to ``docs_dir``.

    ``detail`` is GX's result format: ``SUMMARY`` adds the failing rows' index (the example rows of
    relationship rules) to ``BASIC``'s counts, observed values and example values."""
    import great_expectations as gx
    from great_expectations.checkpoint.actions import UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    low, high, reason = row_bounds
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    full_suite = with_row_count(suite if window is None else with_window(suite, window), low, high)
    gx_suite = context.suites.add(ExpectationSuite(**full_suite))
    require_all_accepted(full_suite, gx_suite)
    batch = (context.data_sources.add_pandas("partition").add_dataframe_asset("frame")
             .add_batch_definition_whole_dataframe("whole"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite['name']}-partition", data=batch, suite=gx_suite))
    result_format = {"result_format": detail, "partial_unexpected_count": examples}
    if docs_dir is None:
        result = definition.run(batch_parameters={"dataframe": frame}, result_format=result_format)
    else:
        context.add_data_docs_site(site_name="partition", site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="partition", validation_definitions=[definition], result_format=result_format,
            actions=[UpdateDataDocsAction(name="docs", site_names=["partition"])]))
        checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame})
        result = next(iter(checkpoint_result.run_results.values()))
    unmet = [r for r in result.results if not r.success]
    warnings = [failed_expectation(r, examples, frame) for r in unmet if is_warning(r.expectation_config)]
    failed = [failed_expectation(r, examples, frame) for r in unmet if not is_warning(r.expectation_config)]
    return ValidationReport(
        success=not failed, evaluated=len(result.results),
        successful=len(result.results) - len(unmet), row_count=len(frame), row_count_bounds=(low, high),
        row_count_reason=reason, failed=failed, warnings=warnings,
        result_json=json.dumps(result.to_json_dict(), default=str))


def validate_and_document(frame: pd.DataFrame, suite: dict[str, Any], row_bounds: tuple[int, int, str],
                          docs_dir: Path, config: ValidationConfig,
                          window: tuple[datetime, datetime] | None = None) -> ValidationReport:
    """``validate_partition`` in two passes when needed: first with GX's ``BASIC`` results (counts and
    observed values of every expectation: the JSON kept for every partition), then, only when an
    expectation is unmet (a failure or a warning) or the use case renders Data Docs ``always``,
    again with ``SUMMARY`` results (example rows) and Data Docs HTML in ``docs_dir`` when the partition
    fails. A passing flights day costs about 1.1 s of CPU instead of 1.8 s (SUMMARY) or 6.6 s (with
    Data Docs): most days pass."""
    report = validate_partition(frame, suite, row_bounds, examples=config.examples, window=window, detail="BASIC")
    if report.success and not report.warnings and config.data_docs != "always":
        return report
    docs = docs_dir if not report.success or config.data_docs == "always" else None
    return validate_partition(frame, suite, row_bounds, examples=config.examples, docs_dir=docs, window=window)


class InvalidSuiteError(ValueError):
    """GX refused an expectation of the suite (it only logs that and drops it: we refuse to validate)."""


def require_all_accepted(suite: dict[str, Any], gx_suite: Any) -> None:
    """Raise ``InvalidSuiteError`` naming the expectations GX dropped from ``suite`` (unknown type, bad kwargs)."""
    accepted = Counter(expectation.expectation_type for expectation in gx_suite.expectations)
    dropped = Counter(str(expectation.get("type")) for expectation in suite["expectations"]) - accepted
    if dropped:
        raise InvalidSuiteError(f"suite {suite['name']!r}: Great Expectations refused {sorted(dropped.elements())} "
                                "(an unknown expectation type or invalid arguments; its log says why)")


def is_warning(config: Any) -> bool:
    """Expectations whose ``meta.severity`` is ``warning`` are reported but do not block publishing."""
    return (config.meta or {}).get("severity") == "warning"

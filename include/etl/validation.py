"""Validate a curated partition with Great Expectations (GX Core 1.x, ephemeral context).

The suite is a GX expectation-suite JSON file; a row-count expectation with bounds learned
from recent partitions is added at run time. GX returns a result and never raises: callers
decide what a failure means (the ETL quarantines the partition and fails the task).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from include.common.metadata import CommitKey


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str
    kwargs: dict[str, Any]
    unexpected_count: int | None
    element_count: int | None
    observed: Any
    examples: list[Any]
    error: str | None

    def describe(self) -> str:
        target = self.kwargs.get("column") or self.kwargs.get("column_list") or self.kwargs.get("column_set") or ""
        if isinstance(target, list) and len(target) > 6:
            target = f"{len(target)} columns"
        parts = [f"{self.expectation}({target})" if target else self.expectation]
        if self.error:
            parts.append(f"error: {self.error}")
        if self.unexpected_count is not None:
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
            parts.append(f"examples {summarise(self.examples)}")
        return ": ".join(parts[:1]) + (" - " + "; ".join(parts[1:]) if parts[1:] else "")


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


def exception_message(info: dict[str, Any]) -> str | None:
    """GX reports errors either flat or per metric; return the first message, shortened."""
    candidates = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception") and candidate.get("exception_message"):
            return str(candidate["exception_message"]).splitlines()[0][:300]
    return None


def failed_expectation(result: Any, examples: int) -> FailedExpectation:
    config = result.expectation_config
    details = result.result or {}
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    error = exception_message(result.exception_info or {})
    return FailedExpectation(
        expectation=config.type, kwargs=kwargs, unexpected_count=details.get("unexpected_count"),
        element_count=details.get("element_count"), observed=details.get("observed_value"),
        examples=distinct(details.get("partial_unexpected_list") or [])[:examples], error=error)


def distinct(values: list[Any]) -> list[Any]:
    """Values in first-seen order without repeats (examples read better that way)."""
    seen: dict[str, Any] = {}
    for value in values:
        seen.setdefault(json.dumps(value, default=str, sort_keys=True), value)
    return list(seen.values())


def validate_partition(frame: pd.DataFrame, suite: dict[str, Any], row_bounds: tuple[int, int, str],
                       examples: int = 5, docs_dir: Path | None = None) -> ValidationReport:
    """Run ``suite`` (plus the row-count bounds) on ``frame``; write Data Docs HTML to ``docs_dir``."""
    import great_expectations as gx
    from great_expectations.checkpoint.actions import UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite
    from great_expectations.data_context.types.base import ProgressBarsConfig

    low, high, reason = row_bounds
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    gx_suite = context.suites.add(ExpectationSuite(**with_row_count(suite, low, high)))
    batch = (context.data_sources.add_pandas("partition").add_dataframe_asset("frame")
             .add_batch_definition_whole_dataframe("whole"))
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite['name']}-partition", data=batch, suite=gx_suite))
    result_format = {"result_format": "SUMMARY", "partial_unexpected_count": examples}
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
    warnings = [failed_expectation(r, examples) for r in unmet if is_warning(r.expectation_config)]
    failed = [failed_expectation(r, examples) for r in unmet if not is_warning(r.expectation_config)]
    return ValidationReport(
        success=not failed, evaluated=len(result.results),
        successful=len(result.results) - len(unmet), row_count=len(frame), row_count_bounds=(low, high),
        row_count_reason=reason, failed=failed, warnings=warnings,
        result_json=json.dumps(result.to_json_dict(), default=str))


def is_warning(config: Any) -> bool:
    """Expectations whose ``meta.severity`` is ``warning`` are reported but do not block publishing."""
    return (config.meta or {}).get("severity") == "warning"

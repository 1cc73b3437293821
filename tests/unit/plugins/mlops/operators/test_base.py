"""What every operator shares: asset events behind a run, backfill detection, templated values."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from mlops.operators.base import UseCaseOperator, as_bool, from_backfill, optional_text, triggering_events


def event(run_id: str, timestamp: int, **extra: str) -> SimpleNamespace:
    return SimpleNamespace(source_run_id=run_id, timestamp=timestamp, extra=extra)


def test_events_from_backfills_are_recognised() -> None:
    manual = event("manual__2026", 2, run_type="manual", commit_id="b")
    backfilled = event("backfill__2013-01-01", 1, commit_id="a")
    assert from_backfill(backfilled) and from_backfill(event("x", 3, run_type="backfill"))
    assert not from_backfill(manual) and not from_backfill(SimpleNamespace(source_run_id=None, extra=None))
    assert triggering_events({"triggering_asset_events": {"asset": [manual, backfilled]}}) == [backfilled, manual]
    assert triggering_events({}) == []


def test_a_run_is_skipped_only_when_every_event_comes_from_a_backfill() -> None:
    operator = UseCaseOperator(task_id="t", usecase="flights")
    live, backfilled = event("scheduled__1", 2), event("backfill__1", 1)
    context = {"triggering_asset_events": {"a": [live, backfilled]}}
    assert operator.live_asset_events(context, "nothing") == [backfilled, live]
    assert operator.live_asset_events({}, "nothing") == []
    with pytest.raises(AirflowSkipException, match="all 2 triggering asset events come from backfills: no run"):
        operator.live_asset_events({"triggering_asset_events": {"a": [backfilled, backfilled]}}, "no run")


@pytest.mark.parametrize(("rendered", "expected"), [(None, None), ("", None), ("None", None), (" 7 ", "7")])
def test_an_empty_templated_parameter_is_none(rendered: object, expected: str | None) -> None:
    assert optional_text(rendered) == expected


def test_rendered_booleans() -> None:
    assert [as_bool(v) for v in ("True", "true", "1", "yes", True)] == [True] * 5
    assert [as_bool(v) for v in ("False", "", "None", "0", False)] == [False] * 5

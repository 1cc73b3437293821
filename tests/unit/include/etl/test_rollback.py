"""Rolling curated data back: the plan from a lakeFS diff, the reason, the metadata (no servers)."""

from __future__ import annotations

import pytest

from include.common.params import ParameterError
from include.common.usecase import load_usecase
from include.etl.rollback import (
    changed_partitions,
    check_reason,
    plan_rollback,
    remonitor_requests,
    rollback_announcement,
    rollback_metadata,
    rollback_title,
)


def test_the_plan_restores_what_changed_or_vanished_and_deletes_what_was_added() -> None:
    plan = plan_rollback([("removed", "curated/flights/flight_date=2013-03-10/part-0.parquet"),
                          ("changed", "curated/flights/flight_date=2013-03-04/part-0.parquet"),
                          ("added", "curated/flights/flight_date=2013-03-01/part-0.parquet"),
                          ("removed", "validation/flights/flight_date=2013-03-10/result.json"),
                          ("removed", "monitoring/flights/2013-03-10/summary.json"),  # a result: kept
                          ("changed", "monitoring/flights/2013-03-04/drift.html")])
    assert plan.restore == ("curated/flights/flight_date=2013-03-01/part-0.parquet",
                            "curated/flights/flight_date=2013-03-04/part-0.parquet")
    assert plan.delete == ("curated/flights/flight_date=2013-03-10/part-0.parquet",
                           "validation/flights/flight_date=2013-03-10/result.json")
    assert not plan.empty and plan_rollback([]).empty
    with pytest.raises(ValueError, match="unexpected lakeFS diff entry 'conflict'"):
        plan_rollback([("conflict", "x")])


@pytest.mark.parametrize("reason", [None, "", "None", "oops", " " * 10, "x" * 501])
def test_a_rollback_must_say_why(reason: str | None) -> None:
    with pytest.raises(ParameterError, match="parameter 'reason'"):
        check_reason(reason)
    assert check_reason("  2013-03-10 published by mistake ") == "2013-03-10 published by mistake"


def test_metadata_records_target_previous_head_who_and_why() -> None:
    usecase = load_usecase("flights")
    plan = plan_rollback([("removed", "a"), ("changed", "b"), ("added", "c")])
    metadata = rollback_metadata(usecase, {"airflow_run_id": "manual__1"}, "target1", "head0",
                                 "bad day", "admin", plan)
    assert metadata == {"airflow_run_id": "manual__1", "mlops_usecase": "flights", "rollback_to": "target1",
                        "rollback_from": "head0", "rollback_reason": "bad day", "rollback_requested_by": "admin",
                        "rollback_restored": "2", "rollback_deleted": "1"}
    assert rollback_title(usecase, "0123456789abcdef", "admin") == (
        "Roll back flights on main to 0123456789ab (requested by admin)")
    assert rollback_announcement(usecase, "merge9", "target1", "manual") == {
        "lakefs_repository": "flights", "commit_id": "merge9", "rollback_to": "target1", "run_type": "manual"}


def test_the_partitions_a_rollback_changed_and_their_remonitoring_runs() -> None:
    usecase = load_usecase("flights")
    paths = ["curated/flights/flight_date=2013-03-10/part-0.parquet", "validation/flights/flight_date=2013-03-11/x",
             "curated/flights/flight_date=2013-03-04/part-0.parquet", "monitoring/flights/2013-03-12/summary.json",
             "curated/hotels/arrival_date=2013-03-01/part-0.parquet"]
    days = changed_partitions(usecase, paths)
    assert [d.isoformat() for d in days] == ["2013-03-04", "2013-03-10"]
    assert remonitor_requests(usecase, days, "manual__2013-04-01T00:00:00+00:00") == [
        {"conf": {"day": "2013-03-04"}, "trigger_run_id": "remonitor__2013-03-04__manual__2013-04-01T00:00:00+00:00"},
        {"conf": {"day": "2013-03-10"}, "trigger_run_id": "remonitor__2013-03-10__manual__2013-04-01T00:00:00+00:00"}]

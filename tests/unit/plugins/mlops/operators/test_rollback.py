"""The rollback operator against an in-memory lakeFS: main gets an earlier commit's content as a new commit
recording who and why, the curated Asset event carries it, a retry does not roll back twice, and bad
targets or reasons fail at once naming the parameter (no servers)."""

from __future__ import annotations

from typing import Any

import pytest

from include.common.usecase import load_usecase
from mlops.assets import curated_asset
from mlops.operators.base import InputError
from mlops.operators.rollback import RollbackDataOperator, StaleMonitoringOperator
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS, stub_context

ASSET = curated_asset(load_usecase("flights"))
GOOD_DAY = "curated/flights/flight_date=2013-03-19/part-0.parquet"
BAD_DAY = "curated/flights/flight_date=2013-03-20/part-0.parquet"
RUN_ID = "manual__2013-04-01T00:00:00+00:00"


def rollback(to_commit: str, reason: str = "2013-03-20 published by mistake") -> RollbackDataOperator:
    return RollbackDataOperator(task_id="rollback", usecase="flights", to_commit=to_commit, reason=reason,
                                outlets=[ASSET])


def context() -> dict[str, Any]:
    return stub_context(task_id="rollback", dag_id="rollback_data_flights", run_id=RUN_ID)


@pytest.fixture
def history(lakefs: FakeLakeFS) -> tuple[str, str]:
    good = lakefs._main_gets({GOOD_DAY: b"good", "curated/flights/flight_date=2013-03-18/part-0.parquet": b"v1"})
    bad = lakefs._main_gets({BAD_DAY: b"bad", "curated/flights/flight_date=2013-03-18/part-0.parquet": b"v2"})
    return good, bad


def test_main_gets_the_target_content_as_a_new_commit_with_who_and_why(lakefs: FakeLakeFS,
                                                                       history: tuple[str, str]) -> None:
    good, bad = history
    ctx = context()
    result = rollback(good).execute(ctx)

    head = lakefs.head_commit("main")
    assert head not in (good, bad) and result["commit_id"] == head
    assert lakefs._objects("main") == lakefs.commits[good].objects  # the day is gone, the changed day restored
    assert lakefs.in_history(bad)  # history kept
    metadata = lakefs.commit_metadata(head)
    assert {k: metadata[k] for k in ("rollback_to", "rollback_from", "rollback_reason", "rollback_requested_by",
                                     "rollback_restored", "rollback_deleted", "airflow_run_id")} == {
        "rollback_to": good, "rollback_from": bad, "rollback_reason": "2013-03-20 published by mistake",
        "rollback_requested_by": "admin", "rollback_restored": "1", "rollback_deleted": "1", "airflow_run_id": RUN_ID}
    assert ctx["outlet_events"][ASSET].extra == {"lakefs_repository": "flights", "commit_id": head,
                                                 "rollback_to": good, "run_type": "manual"}
    assert not [b for b in lakefs.heads if b.startswith("rollback-")]  # the rollback branch is deleted
    assert result["rollback_from"] == bad and result["changed_partitions"] == ["2013-03-18", "2013-03-20"]

    again = rollback(good).execute(context())  # a retry after the merge: reported, not done twice
    assert again["commit_id"] == head and lakefs.head_commit("main") == head
    assert again["changed_partitions"] == result["changed_partitions"]


def test_monitoring_reports_are_kept_and_the_monitored_days_it_changed_are_monitored_again(
        lakefs: FakeLakeFS) -> None:
    changed, removed = "curated/flights/flight_date=2013-03-18/part-0.parquet", BAD_DAY
    report = "monitoring/flights/{}/summary.json"
    good = lakefs._main_gets({GOOD_DAY: b"good", changed: b"v1", report.format("2013-03-19"): b"{}"})
    lakefs._main_gets({changed: b"v2", removed: b"bad", report.format("2013-03-18"): b"{}",
                       report.format("2013-03-20"): b"{}"})
    reports = {path: data for path, data in lakefs._objects("main").items() if path.startswith("monitoring/")}
    result = rollback(good).execute(context())
    assert {p: d for p, d in lakefs._objects("main").items() if p.startswith("monitoring/")} == reports
    assert lakefs._objects("main")[changed] == b"v1" and removed not in lakefs._objects("main")

    ctx = stub_context(task_id="stale_monitoring", dag_id="rollback_data_flights", run_id=RUN_ID)
    requests = StaleMonitoringOperator(task_id="stale_monitoring", usecase="flights", rolled_back=result).execute(ctx)
    # 03-18 changed and was monitored; 03-20 was removed (its report stays); 03-19 did not change
    assert requests == [{"conf": {"day": "2013-03-18"}, "trigger_run_id": f"remonitor__2013-03-18__{RUN_ID}"}]


@pytest.mark.parametrize(("target", "reason", "message"), [
    ("nope", "a good reason", "parameter 'to_commit': lakeFS repository 'flights' has no commit 'nope'"),
    ("main", "a good reason", "parameter 'to_commit': main (c0003) already has the content of c0003"),
    ("GOOD", "x", "parameter 'reason'"),
    ("", "a good reason", "parameter 'to_commit'"),
    ("OTHER", "a good reason", "is not a commit of main's history"),
])
def test_bad_targets_and_reasons_fail_at_once_naming_the_parameter(
        lakefs: FakeLakeFS, history: tuple[str, str], target: str, reason: str, message: str) -> None:
    good, _ = history
    lakefs.create_branch("elsewhere")
    lakefs.upload("elsewhere", "x", b"x")
    other = lakefs.commit("elsewhere", "not on main", {})
    head = lakefs.head_commit("main")
    target = {"GOOD": good, "OTHER": other}.get(target, target)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        rollback(target, reason).execute(context())
    assert lakefs.head_commit("main") == head
    assert not [b for b in lakefs.heads if b.startswith("rollback-")]

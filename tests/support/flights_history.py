"""Curated flights on the test stack's lakeFS ``main``, shared by the modules that need a trainable history.

In a full session ``tests/e2e/test_training_flights.py`` has loaded it already; a module run on its
own loads it here with the same backfill (about a minute), so each module also works alone.
"""

from __future__ import annotations

from datetime import date, timedelta

from include.common.datasets import partition_days
from include.common.usecase import load_usecase
from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi

ETL_DAG, TRAIN_DAG = "etl_flights", "train_flights"
TIMEZONE = "America/New_York"  # etl_flights' timetable runs in its source's time zone
HISTORY = ("2013-02-11", "2013-03-03")  # the range test_training_flights.py loads


def history_days() -> list[date]:
    first, last = (date.fromisoformat(day) for day in HISTORY)
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def published_days(hook: LakeFSHook) -> set[date]:
    from lakefs.exceptions import NotFoundException

    try:
        return set(partition_days(hook.repository(), "main", load_usecase("flights")))
    except NotFoundException:
        return set()


def ensure_flights_history(api: AirflowApi, hook: LakeFSHook) -> None:
    """HISTORY's days on ``main`` (backfilled through the scheduler when any is missing)."""
    api.wait_for_dag(ETL_DAG)
    api.wait_for_dag(TRAIN_DAG)
    api.unpause(ETL_DAG)
    if set(history_days()) <= published_days(hook):
        return
    running = [b["id"] for b in api.call("GET", "/backfills", params={"dag_id": ETL_DAG})["backfills"]
               if not b.get("completed_at")]  # another module's load, still going: wait for it instead
    backfill = running[0] if running else api.backfill(ETL_DAG, *HISTORY, timezone=TIMEZONE,
                                                       reprocess_behavior="failed")
    wait_for_backfill(api, backfill)
    missing = set(history_days()) - published_days(hook)
    assert not missing, f"the history backfill left days unpublished: {sorted(missing)}"


def wait_for_backfill(api: AirflowApi, backfill: int, timeout: float = 1500) -> None:
    """Like ``AirflowApi.wait_for_backfill``, riding over a slow answer of a busy API server (a shared,
    overloaded machine made single calls exceed the client's 30 s)."""
    import time

    import requests

    from scripts.airflow_api import AirflowApiError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.call("GET", f"/backfills/{backfill}").get("completed_at"):
                return
        except (requests.RequestException, AirflowApiError) as error:
            print(f"backfill {backfill}: status not read ({error}); retrying")
        time.sleep(5)
    raise AssertionError(f"backfill {backfill} did not complete within {timeout:.0f} s")


def pause_deployments(api: AirflowApi, usecase: str = "flights") -> None:
    """Pause ``deploy_<usecase>`` when it exists: trainings started by data tests must not start deployments
    (packaging, load tests, an approval waiting for days) that the serving tests own."""
    from scripts.airflow_api import AirflowApiError

    try:
        api.call("PATCH", f"/dags/deploy_{usecase}", json={"is_paused": True})
    except AirflowApiError as error:
        if " 404 " not in str(error):
            raise

"""A small client for the Airflow 3 REST API (``/api/v2``) used by ``make demo`` and tests."""

from __future__ import annotations

import time
from datetime import date, datetime
from datetime import time as clock_time
from typing import Any
from zoneinfo import ZoneInfo

import requests

FINISHED = {"success", "failed"}
ENDED = {"success", "failed", "skipped", "upstream_failed", "removed"}  # a task instance's last states


class AirflowApiError(RuntimeError):
    """The API refused a call or a run did not finish as expected."""


class AirflowApi:
    """Token-authenticated calls to one Airflow API server."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = {"username": username, "password": password}
        self.session = requests.Session()
        self.authenticate()

    def authenticate(self) -> None:
        """Get a token (again: a restarted stack with a new JWT secret refuses the old one)."""
        response = self.session.post(f"{self.base_url}/auth/token", timeout=30, json=self.credentials)
        if not response.ok:
            raise AirflowApiError(f"login to {self.base_url} failed: {response.status_code} {response.text}")
        self.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a GET (idempotent) is retried twice on a timeout or a dropped connection (a busy
        2-core machine stalled the API server for up to a minute)."""
        for attempt in range(3 if method == "GET" else 1):
            try:
                response = self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=60, **kwargs)
                break
            except (requests.Timeout, requests.ConnectionError):
                if attempt == 2 or method != "GET":
                    raise
                time.sleep(5)
        if not response.ok:
            raise AirflowApiError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content else None

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the dag-processor has parsed ``dag_id``; fail with the import errors."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return dict(self.call("GET", f"/dags/{dag_id}"))
            except AirflowApiError:
                time.sleep(2)
        errors = self.call("GET", "/importErrors").get("import_errors", [])
        raise AirflowApiError(f"DAG {dag_id} not parsed within {timeout:.0f}s; import errors: {errors}")

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_id: str) -> None:
        self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None,
                logical_date: str | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf or {}}
        return str(self.call("POST", f"/dags/{dag_id}/dagRuns", json=body)["dag_run_id"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait until the run finishes; return its state (``success`` or ``failed``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = str(self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])
            if state in FINISHED:
                return state
            time.sleep(2)
        raise AirflowApiError(f"run {run_id} of {dag_id} did not finish within {timeout:.0f}s; "
                              f"its tasks: {self.task_states(dag_id, run_id)}")

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        tis = self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: str(ti["state"]) for ti in tis}

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.call("GET", path, params={"deserialize": True})["value"]

    def backfill(self, dag_id: str, first_day: str, last_day: str, max_active_runs: int = 8,
                 reprocess_behavior: str = "none", timezone: str = "UTC") -> int:
        """Create a backfill for the data intervals starting ``first_day`` .. ``last_day`` at local midnight in
        ``timezone`` (the DAG's timetable zone: an ETL DAG's is its source's); return its id."""
        start, end = (datetime.combine(date.fromisoformat(day), clock_time(), ZoneInfo(timezone)).isoformat()
                      for day in (first_day, last_day))
        body = {"dag_id": dag_id, "from_date": start, "to_date": end,
                "run_backwards": False, "dag_run_conf": {}, "reprocess_behavior": reprocess_behavior,
                "max_active_runs": max_active_runs}
        return int(self.call("POST", "/backfills", json=body)["id"])

    def wait_for_backfill(self, backfill_id: int, timeout: float = 1800) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backfill = dict(self.call("GET", f"/backfills/{backfill_id}"))
            if backfill.get("completed_at"):
                return backfill
            time.sleep(3)
        raise AirflowApiError(f"backfill {backfill_id} did not complete within {timeout:.0f}s")

    def runs(self, dag_id: str, **filters: Any) -> list[dict[str, Any]]:
        """All DAG runs, oldest logical date first (filters are ``/dagRuns`` query parameters)."""
        runs: list[dict[str, Any]] = []
        while True:
            params = {"limit": 100, "offset": len(runs), "order_by": "logical_date", **filters}
            page = self.call("GET", f"/dags/{dag_id}/dagRuns", params=params)
            runs += page["dag_runs"]
            if not page["dag_runs"] or len(runs) >= page["total_entries"]:
                return runs

    def wait_until_idle(self, dag_id: str, timeout: float = 900) -> list[dict[str, Any]]:
        """Wait until every run of the DAG has finished; return the runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.runs(dag_id)
            if all(r["state"] in {"success", "failed"} for r in runs):
                return runs
            time.sleep(3)
        raise AirflowApiError(f"{dag_id} still has unfinished runs after {timeout:.0f}s")

    def asset_events(self, source_dag_id: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        while True:
            params = {"source_dag_id": source_dag_id, "limit": 100, "offset": len(events), "order_by": "timestamp"}
            page = self.call("GET", "/assets/events", params=params)
            events += page["asset_events"]
            if not page["asset_events"] or len(events) >= page["total_entries"]:
                return events

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, states: set[str],
                      timeout: float = 600) -> str:
        """Wait until ``task_id`` of the run is in one of ``states`` (or the run ends); return its state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.task_states(dag_id, run_id).get(task_id, "")
            if state in states:
                return state
            if self.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"] in FINISHED:
                return state
            time.sleep(2)
        others = [(r["dag_run_id"], r["state"]) for r in self.runs(dag_id) if r["dag_run_id"] != run_id]
        raise AirflowApiError(f"{dag_id} {run_id}: {task_id} not in {states} within {timeout:.0f}s; "
                              f"its tasks: {self.task_states(dag_id, run_id)}; other runs of the DAG: {others}")

    def answer_approval(self, dag_id: str, run_id: str, task_id: str, option: str,
                        settle_seconds: float = 5, timeout: float = 900) -> dict[str, Any]:
        """Answer a human-in-the-loop task (e.g. ``Approve`` or ``Reject``) as the API's user; return once the
        task has ended (``success`` once the answer is taken; ``skipped`` or ``failed`` are the caller's to read).

        Each try is answered only once it has been waiting for ``settle_seconds``: an answer that arrives while
        the worker is still parking the task makes Airflow 3.3 kill that try and ask again in a retry (seen
        under load). Should that happen anyway, the retry's question is answered too (it would otherwise
        wait for its response timeout, days, and hold the DAG's only active run)."""
        deadline = time.monotonic() + timeout
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        answered: dict[str, Any] = {}
        answered_try, since, seen_try = None, time.monotonic(), None
        while time.monotonic() < deadline:
            instance = self.call("GET", path)
            state, try_number = instance["state"], instance["try_number"]
            if state in ENDED:
                return answered
            if state != "awaiting_input" or try_number != seen_try:
                since, seen_try = time.monotonic(), try_number
            elif try_number != answered_try and time.monotonic() - since >= settle_seconds:
                answered = dict(self.call("PATCH", f"{path}/-1/hitlDetails",
                                          json={"chosen_options": [option], "params_input": {}}))
                answered_try = try_number
            time.sleep(0.5)
        raise AirflowApiError(f"{dag_id} {run_id}: {task_id} did not take the answer {option!r} within "
                              f"{timeout:.0f}s; its tasks: {self.task_states(dag_id, run_id)}")

    def emit_asset_event(self, asset_name: str, extra: dict[str, Any]) -> dict[str, Any]:
        """Record an event of the named Asset (as a producing task would), with ``extra``."""
        assets = self.call("GET", "/assets", params={"name_pattern": asset_name})["assets"]
        found = [a for a in assets if a["name"] == asset_name]
        if not found:
            raise AirflowApiError(f"no Asset named {asset_name}")
        return dict(self.call("POST", "/assets/events", json={"asset_id": found[0]["id"], "extra": extra}))

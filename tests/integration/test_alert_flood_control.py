"""Flood control of failure alerts across worker processes, on the test stack's real servers.

Two worker processes (spawned, sharing nothing but the database) fire failure alerts for the same
DAG at the same moment through the real ``FailureAlertNotifier``: exactly ``burst`` reach the real
SMTP server and webhook recorder, the rest are counted in the ``mlops`` PostgreSQL database, and the
first alert after the window reports how many were held back. Connections and the Variable
``mlops_alerts`` come from ``airflow_settings.yaml``, as in the stack's tasks.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import psycopg2
import pytest
import yaml

from include.common.alerting import FLOOD_TABLE
from scripts.stack import StackConfig
from tests.conftest import REPO_ROOT, received_alerts

BURST = 3
WINDOW = 15.0  # seconds: long enough for the storm, short enough to wait out
WORKERS = 2
PER_WORKER = 12


def failure_context(dag_id: str, run_id: str, error: str) -> dict[str, Any]:
    ti = SimpleNamespace(dag_id=dag_id, task_id="validate", run_id=run_id, try_number=1,
                         log_url=f"http://127.0.0.1/dags/{dag_id}/runs/{run_id}/tasks/validate")
    return {"ti": ti, "run_id": run_id, "logical_date": None, "exception": RuntimeError(error)}


def worker(worker_id: int, dag_id: str, count: int, barrier: Any, times: Any) -> None:
    """One Airflow worker's worth of failing tasks: each alert built as a task process builds it."""
    import importlib

    for module in ("airflow.providers.postgres.hooks.postgres", "airflow.providers.smtp.notifications.smtp",
                   "airflow.providers.slack.notifications.slack_webhook"):
        importlib.import_module(module)  # a warm worker: the storm below is a burst, not an import race

    from mlops.notifications.failure import failure_notifier

    barrier.wait(timeout=60)
    started = time.time()
    for index in range(count):
        failure_notifier()(failure_context(dag_id, f"w{worker_id}_{index}", f"boom {worker_id}.{index}"))
    times.put((started, time.time()))


@pytest.fixture()
def alert_env(stack_connections: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What a worker outside Airflow reads: the stack's connections (``smtp_default``, ``slack_alerts``,
    ``mlops_state`` as ``AIRFLOW_CONN_*``) and the Variable ``mlops_alerts`` of airflow_settings.yaml,
    with the limits of this test as ``MLOPS_ALERT_*`` overrides."""
    missing = [c for c in ("SMTP_DEFAULT", "SLACK_ALERTS", "MLOPS_STATE") if f"AIRFLOW_CONN_{c}" not in os.environ]
    assert not missing, f"stack_connections gives no AIRFLOW_CONN_ for {missing}"
    document = yaml.safe_load((REPO_ROOT / "airflow_settings.yaml").read_text())
    [value] = [v["variable_value"] for v in document["airflow"]["variables"] if v["variable_name"] == "mlops_alerts"]
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_ALERTS", json.dumps(value))
    for key in [k for k in os.environ if k.startswith("MLOPS_ALERT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_ALERT_BURST", str(BURST))
    monkeypatch.setenv("MLOPS_ALERT_WINDOW_SECONDS", str(WINDOW))
    yield


@pytest.fixture()
def state_db(stack: StackConfig) -> Iterator[Any]:
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="mlops", password="mlops", dbname="mlops")
    conn.autocommit = True
    yield conn.cursor()
    conn.close()


def alerts_for(stack: StackConfig, dag_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mails = [m for m in received_alerts(stack, "mail") if f"[Airflow] {dag_id}." in str(m["subject"])]
    hooks = [w for w in received_alerts(stack, "webhook") if f"[Airflow] {dag_id}." in str(w["payload"])]
    return mails, hooks


def test_two_workers_failing_at_once_send_exactly_the_burst(
        stack: StackConfig, alert_env: None, state_db: Any) -> None:
    dag_id = f"flood_{uuid.uuid4().hex[:8]}"
    state_db.execute(f"DROP TABLE IF EXISTS {FLOOD_TABLE}")  # both workers race to create it, too
    spawn = multiprocessing.get_context("spawn")  # nothing shared but the database, as on two machines
    barrier, times = spawn.Barrier(WORKERS), spawn.Queue()
    processes = [spawn.Process(target=worker, args=(n, dag_id, PER_WORKER, barrier, times)) for n in range(WORKERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    assert [p.exitcode for p in processes] == [0] * WORKERS
    spans = [times.get(timeout=5) for _ in processes]
    storm = max(end for _, end in spans) - min(start for start, _ in spans)
    overlap = min(end for _, end in spans) - max(start for start, _ in spans)
    assert storm < WINDOW, f"the storm took {storm:.1f}s, longer than the window: the test proves nothing"
    assert overlap > 0, f"the workers did not fail at the same time: {spans}"

    mails, hooks = alerts_for(stack, dag_id)
    total = WORKERS * PER_WORKER
    assert len(mails) == BURST and len(hooks) == BURST, ([m["subject"] for m in mails], len(hooks))
    state_db.execute(f"SELECT suppressed, cardinality(sent_at), sent_at[1] FROM {FLOOD_TABLE} WHERE key = %s",
                     (f"failure:{dag_id}",))
    suppressed, sent, first_sent = state_db.fetchone()
    assert (suppressed, sent) == (total - BURST, BURST)
    assert all("suppressed" not in str(m["body"]) for m in mails)

    # the window closes; the next failure goes out and reports what was held back
    state_db.execute("SELECT %s - extract(epoch FROM clock_timestamp())::double precision", (first_sent + WINDOW,))
    time.sleep(max(0.0, state_db.fetchone()[0]) + 0.5)
    from mlops.notifications.failure import failure_notifier

    failure_notifier()(failure_context(dag_id, "after_window", "boom again"))
    mails, hooks = alerts_for(stack, dag_id)
    assert len(mails) == BURST + 1 and "after_window" in str(mails[-1]["body"])
    note = f"({total - BURST} earlier failure alerts of this DAG were suppressed by flood control"
    assert note in str(mails[-1]["body"]) and note in str(hooks[-1]["payload"])
    state_db.execute(f"SELECT suppressed FROM {FLOOD_TABLE} WHERE key = %s", (f"failure:{dag_id}",))
    assert state_db.fetchone()[0] == 0


def test_flood_control_is_per_dag(stack: StackConfig, alert_env: None) -> None:
    from mlops.notifications.failure import failure_notifier

    noisy, quiet = f"noisy_{uuid.uuid4().hex[:8]}", f"quiet_{uuid.uuid4().hex[:8]}"
    for index in range(BURST + 2):
        failure_notifier()(failure_context(noisy, f"r{index}", "boom"))
    failure_notifier()(failure_context(quiet, "r0", "boom"))
    assert len(alerts_for(stack, noisy)[0]) == BURST
    assert len(alerts_for(stack, quiet)[0]) == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_state_database_fails_open(
        stack: StackConfig, alert_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops.notifications.failure import failure_notifier

    monkeypatch.setenv("AIRFLOW_CONN_MLOPS_STATE_DOWN", json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": closed_port(), "schema": "mlops",
        "login": "mlops", "password": "mlops", "extra": {"connect_timeout": 3}}))
    monkeypatch.setenv("MLOPS_ALERT_STATE_CONN_ID", "mlops_state_down")
    dag_id = f"stateless_{uuid.uuid4().hex[:8]}"
    for index in range(BURST + 2):  # no shared state: every alert goes out rather than none
        failure_notifier()(failure_context(dag_id, f"r{index}", "boom"))
    mails, hooks = alerts_for(stack, dag_id)
    assert len(mails) == BURST + 2 and len(hooks) == BURST + 2


def test_a_dead_mail_server_does_not_hide_the_webhook_alert(
        stack: StackConfig, alert_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops.notifications.failure import failure_notifier

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DOWN", json.dumps({
        "conn_type": "smtp", "host": "127.0.0.1", "port": closed_port(),
        "extra": {"from_email": "airflow@localhost", "disable_ssl": True, "disable_tls": True, "timeout": 3,
                  "retry_limit": 1}}))
    monkeypatch.setenv("MLOPS_ALERT_SMTP_CONN_ID", "smtp_down")
    dag_id = f"nomail_{uuid.uuid4().hex[:8]}"
    delivered = failure_notifier().send(failure_context(dag_id, "r0", "boom"))
    assert delivered == ["webhook via slack_alerts"]
    mails, hooks = alerts_for(stack, dag_id)
    assert mails == [] and len(hooks) == 1

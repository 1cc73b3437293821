"""Faults injected for real into the session's test stack while a named task runs, through the real
scheduler; each test lets retries do their job, brings the server back, and checks what users care
about: nothing lost, nothing duplicated, lakeFS ``main`` and the MLflow registry consistent, and the run
completing. Each records its observed recovery time (printed in the run's summary; README table).

1. lakeFS killed (SIGKILL) between ``publish``'s merge request and its response, restarted by supervisord.
2. MLflow killed (SIGKILL, its process group) while ``train`` logs to it; restarted by supervisord.
3. The worker process running a task (and the task process under it) killed with SIGKILL: the task's
   heartbeat stops, the scheduler fails it after the heartbeat timeout (60 s on the test stack), it retries.
4. The source database stopped while ``extract_to_branch`` runs (connections refused and open sessions
   terminated: the local stack's source shares its PostgreSQL server with Airflow, so the server itself
   is fault 5), then started again.
5. PostgreSQL (Airflow's metadata database) restarted while runs are queued.
6. The production Bento server (its supervisord program's process group) killed with SIGKILL while a client
   sends predictions through the nginx proxy: every request gets a 200 or a clean 503 (JSON) quickly, never a
   hang or a reset connection; supervisord restarts the Bento and production answers 200 again.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import psycopg2
import pytest
import requests
from mlflow import MlflowClient

from include.common.usecase import UseCase, load_usecase
from include.serving.packaging import build_bento
from include.serving.slots import SERVED_BY, SlotLayout, read_slot, switch
from include.training.service import PinnedData, run_settings_for, train_and_log
from include.training.tracking import DataRef
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from mlops.hooks.serving import SupervisorControl
from scripts.airflow_api import AirflowApi
from scripts.stack import PG_SUPERUSER_PASSWORD, StackConfig, health_checks, process_info, supervisor
from tests.conftest import TEST_RETRY_DELAY_SECONDS as RETRY_DELAY
from tests.faults.conftest import Recovery
from tests.support.flights_history import ETL_DAG, TRAIN_DAG, ensure_flights_history, pause_deployments
from tests.support.source_data import partitions as source_partitions

MODEL = "flights_delay"
PROXY_ANSWER_BOUND = 5.0  # seconds: a request through the serving proxy is answered within this, or it hung
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host",
              "proxy-connection", "te", "trailer", "upgrade"}


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


def pause(api: AirflowApi, dag_id: str) -> None:
    api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})


@pytest.fixture(scope="module")
def etl(airflow_api: AirflowApi) -> None:
    """``etl_flights`` ready; ``train_flights`` paused, so the ETL runs here start no training (only
    fault 2 unpauses it, for its own run)."""
    for dag_id in (ETL_DAG, TRAIN_DAG):
        airflow_api.wait_for_dag(dag_id)
    airflow_api.unpause(ETL_DAG)
    pause(airflow_api, TRAIN_DAG)
    pause_deployments(airflow_api)  # fault 2's training deploys nothing


@pytest.fixture(scope="module")
def history(etl: None, airflow_api: AirflowApi, lakefs: LakeFSHook) -> None:
    """Curated flights to train on (loaded already in a full session)."""
    ensure_flights_history(airflow_api, lakefs)


def program_pid(stack: StackConfig, program: str) -> int:
    info = process_info(stack)[program]
    assert info["statename"] == "RUNNING", info
    return int(info["pid"])


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if result := check():
                return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_healthy(stack: StackConfig, program: str, timeout: float = 300) -> float:
    """Seconds until ``program``'s health check passes."""
    started = time.monotonic()
    wait_for(health_checks(stack)[program], timeout, f"{program} to be healthy")
    return time.monotonic() - started


def task_instance(api: AirflowApi, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
    return dict(api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"))


def timestamp(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def wait_task_running(api: AirflowApi, dag_id: str, run_id: str, task_id: str, timeout: float = 300) -> None:
    wait_for(lambda: task_instance(api, dag_id, run_id, task_id)["state"] == "running", timeout,
             f"{dag_id}.{task_id} to run", interval=0.2)


# --------------------------------------------------------------------------- 1. lakeFS mid-merge


class MergeKillingProxy(ThreadingHTTPServer):
    """An HTTP proxy to lakeFS that, once, forwards a merge into ``main``, lets lakeFS answer it, kills
    lakeFS, and drops the client's connection without the response: the merge happened, the client
    never learns it (the hardest case for a retry)."""

    daemon_threads = True

    def __init__(self, upstream: str, kill: Callable[[], None], branch_prefix: str) -> None:
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream = upstream.rstrip("/")
        self.kill = kill
        self.branch_prefix = branch_prefix  # only this run's merge (other runs may use the connection too)
        self.killed_at: float | None = None
        self.merge_path: str | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def kill_once(self, method: str, path: str) -> bool:
        with self.lock:
            route = path.split("?")[0]
            if self.killed_at is not None or method != "POST" or not route.endswith("/merge/main") \
                    or f"/refs/{self.branch_prefix}" not in route:
                return False
            self.kill()
            self.killed_at, self.merge_path = time.time(), path
            return True

    @contextlib.contextmanager
    def running(self) -> Iterator[MergeKillingProxy]:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.shutdown()
            self.server_close()


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: MergeKillingProxy

    def body(self) -> bytes | None:
        """The request's body, also when it comes in chunks (the lakeFS SDK streams uploads)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else None

    def forward(self) -> None:
        body = self.body()
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            response = requests.request(self.command, self.server.upstream + self.path, headers=headers, data=body,
                                        allow_redirects=False, timeout=120)
        except requests.ConnectionError as error:  # lakeFS is down (restarting)
            response = None
            failure = f"lakeFS unreachable: {error}".encode()
        if response is not None and self.server.kill_once(self.command, self.path):
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, content = (response.status_code, response.content) if response is not None else (502, failure)
        self.send_response(status)
        for key, value in (response.headers.items() if response is not None else []):
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = forward

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def connection_host(api: AirflowApi, conn_id: str, host: str) -> Iterator[None]:
    """Point an Airflow connection at ``host`` for the block (tasks read connections when they run)."""
    original = api.call("GET", f"/connections/{conn_id}")
    body = {"connection_id": conn_id, "conn_type": original["conn_type"]}
    api.call("PATCH", f"/connections/{conn_id}", params={"update_mask": "host"}, json={**body, "host": host})
    try:
        yield
    finally:
        api.call("PATCH", f"/connections/{conn_id}", params={"update_mask": "host"},
                 json={**body, "host": original["host"]})


def test_lakefs_killed_between_merge_request_and_response(
        etl: None, stack: StackConfig, airflow_api: AirflowApi, lakefs: LakeFSHook,
        record_recovery: Callable[[Recovery], None]) -> None:
    day, path = "2013-03-25", "curated/flights/flight_date=2013-03-25/part-0.parquet"
    pid_before = program_pid(stack, "lakefs")
    proxy = MergeKillingProxy(stack.lakefs_endpoint, lambda: os.kill(program_pid(stack, "lakefs"), signal.SIGKILL),
                              branch_prefix=f"etl-flights-{day}-")
    with proxy.running(), connection_host(airflow_api, "lakefs_default", proxy.url):
        run_id = airflow_api.trigger(ETL_DAG, {"partition_date": day})
        state = airflow_api.wait_for_run(ETL_DAG, run_id, timeout=600)
    assert proxy.killed_at is not None, "the merge never went through the proxy"
    assert state == "success", airflow_api.task_states(ETL_DAG, run_id)
    publish = task_instance(airflow_api, ETL_DAG, run_id, "publish")
    assert publish["try_number"] >= 2, publish  # the killed try failed, a retry finished the job
    assert program_pid(stack, "lakefs") != pid_before  # supervisord restarted it

    commit_id = airflow_api.xcom(ETL_DAG, run_id, "commit")
    merges = [c for c in lakefs.branch("main").log(max_amount=200)
              if (c.metadata or {}).get("source_commit") == commit_id]
    assert len(merges) == 1, f"{len(merges)} merges of {commit_id} on main"  # no duplicate publish
    assert merges[0].creation_date <= proxy.killed_at + 1  # merged by the killed request, found by the retry
    assert airflow_api.xcom(ETL_DAG, run_id, "publish")["commit_id"] == merges[0].id
    metadata = lakefs.commit_metadata(commit_id)
    assert lakefs.object_checksum("main", path) == metadata["partition_sha256"]  # nothing lost
    assert airflow_api.asset_events(ETL_DAG)[-1]["extra"]["commit_id"] == merges[0].id
    assert not lakefs.branch_exists(f"etl-flights-{day}")
    record_recovery(Recovery(
        "1. lakeFS killed between publish's merge request and response",
        f"publish try 1 fails (connection dropped); Airflow retries after {RETRY_DELAY} s (test stack; 20 s by "
        "default); lakeFS restarted by supervisord",
        timestamp(publish["end_date"]) - proxy.killed_at, 0, 0,
        f"publish tries: {publish['try_number']}; the retry finds the merge on main by source_commit and does not "
        "merge again"))


# --------------------------------------------------------------------------- 2. MLflow mid-logging


def test_mlflow_killed_while_train_logs(history: None, stack: StackConfig, airflow_api: AirflowApi,
                                        mlflow_client: MlflowClient,
                                        record_recovery: Callable[[Recovery], None]) -> None:
    airflow_api.unpause(TRAIN_DAG)
    versions_before = {v.version for v in mlflow_client.search_model_versions(f"name = '{MODEL}'")}
    run_id = airflow_api.trigger(TRAIN_DAG, {})
    experiment = wait_for(lambda: mlflow_client.get_experiment_by_name("train_flights"), 120, "the experiment")
    query = f"tags.airflow_run_id = '{run_id}'"
    wait_for(lambda: mlflow_client.search_runs([experiment.experiment_id], f"{query} and attributes.status = "
                                               "'RUNNING'"), 600, "train to start logging its MLflow run",
             interval=0.3)
    pid = program_pid(stack, "mlflow")
    os.killpg(pid, signal.SIGKILL)  # the server and its workers (supervisord runs it in its own group)
    killed_at = time.time()
    restarted = wait_healthy(stack, "mlflow", 600)
    state = airflow_api.wait_for_run(TRAIN_DAG, run_id, timeout=1200)
    pause(airflow_api, TRAIN_DAG)
    assert state == "success", airflow_api.task_states(TRAIN_DAG, run_id)
    train = task_instance(airflow_api, TRAIN_DAG, run_id, "train")

    runs = mlflow_client.search_runs([experiment.experiment_id], query)
    statuses = sorted(run.info.status for run in runs)
    assert "RUNNING" not in statuses, statuses  # no half-finished run left RUNNING
    trained = airflow_api.xcom(TRAIN_DAG, run_id, "train")
    finished = [run for run in runs if run.info.status == "FINISHED" and run.data.tags.get("mlops.kind") == "training"]
    assert [run.info.run_id for run in finished] == [trained["run_id"]]
    run_ids = {run.info.run_id for run in runs}
    new_versions = [v for v in mlflow_client.search_model_versions(f"name = '{MODEL}'")
                    if v.version not in versions_before]
    assert [v.version for v in new_versions if v.run_id in run_ids] == [trained["model_version"]]  # no duplicate
    assert len(new_versions) == 1
    record_recovery(Recovery(
        "2. MLflow killed while train logs its run",
        f"MLflow client retries, then (if exhausted) train fails and Airflow retries; supervisord restarts MLflow "
        f"(healthy after {restarted:.0f} s)",
        timestamp(train["end_date"]) - killed_at, 0, 0,
        f"train tries: {train['try_number']}; runs of this task: {statuses}; one model version"))


# --------------------------------------------------------------------------- 3. worker SIGKILL


def worker_of(stack: StackConfig, run_id: str, task_id: str) -> int | None:
    """The executor worker supervising ``task_id`` of ``run_id``: the process writing its task log."""
    scheduler = program_pid(stack, "airflow-scheduler")
    children = [int(pid) for pid in os.listdir("/proc") if pid.isdigit() and parent_of(int(pid)) == scheduler]
    for pid in children:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if f"run_id={run_id}" in target and f"task_id={task_id}" in target:
                    return pid
    return None


def parent_of(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_worker_killed_with_sigkill_is_detected_by_heartbeat_and_retried(
        etl: None, stack: StackConfig, airflow_api: AirflowApi, lakefs: LakeFSHook,
        record_recovery: Callable[[Recovery], None]) -> None:
    day, task = "2013-03-26", "validate"
    run_id = airflow_api.trigger(ETL_DAG, {"partition_date": day})
    wait_task_running(airflow_api, ETL_DAG, run_id, task)
    worker = wait_for(lambda: worker_of(stack, run_id, task), 60, f"the worker running {task}", interval=0.2)
    task_processes = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if parent_of(pid) == worker]
    for pid in [worker, *task_processes]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    state = airflow_api.wait_for_run(ETL_DAG, run_id, timeout=600)
    assert state == "success", airflow_api.task_states(ETL_DAG, run_id)
    validate = task_instance(airflow_api, ETL_DAG, run_id, task)
    assert validate["try_number"] == 2, validate
    commit_id = airflow_api.xcom(ETL_DAG, run_id, "commit")
    merges = [c for c in lakefs.branch("main").log(max_amount=200)
              if (c.metadata or {}).get("source_commit") == commit_id]
    assert len(merges) == 1
    path = f"curated/flights/flight_date={day}/part-0.parquet"
    assert lakefs.object_checksum("main", path) == lakefs.commit_metadata(commit_id)["partition_sha256"]
    tries = airflow_api.call("GET", f"/dags/{ETL_DAG}/dagRuns/{run_id}/taskInstances/{task}/tries")["task_instances"]
    first = next(t for t in tries if t["try_number"] == 1)
    record_recovery(Recovery(
        "3. worker of a running task (validate) killed with SIGKILL",
        f"heartbeat timeout (60 s here, 300 s by default): try 1 {first['state']} after "
        f"{timestamp(first['end_date']) - killed_at:.0f} s; Airflow retries after {RETRY_DELAY} s (test stack)",
        timestamp(validate["end_date"]) - killed_at, 0, 0,
        "validate is idempotent (report replaced on the run branch); one merge on main"))


# --------------------------------------------------------------------------- 4. source database down


def source_admin(stack: StackConfig) -> Any:
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="postgres", password=PG_SUPERUSER_PASSWORD,
                            dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    return conn


def set_source_available(stack: StackConfig, available: bool) -> None:
    """Open or close the source database: refuse new connections and end its sessions (as a stopped server)."""
    conn = source_admin(stack)
    with conn.cursor() as cur:
        cur.execute(f"ALTER DATABASE source ALLOW_CONNECTIONS {'true' if available else 'false'}")
        if not available:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'source'")
    conn.close()


def test_source_database_stopped_during_extract_then_started(
        etl: None, stack: StackConfig, airflow_api: AirflowApi, lakefs: LakeFSHook,
        record_recovery: Callable[[Recovery], None]) -> None:
    day, task = "2013-03-27", "extract_to_branch"
    main_before = lakefs.head_commit("main")
    run_id = airflow_api.trigger(ETL_DAG, {"partition_date": day})
    try:
        wait_task_running(airflow_api, ETL_DAG, run_id, task)
        set_source_available(stack, False)
        stopped_at = time.time()
        wait_for(lambda: task_instance(airflow_api, ETL_DAG, run_id, task)["state"] in ("up_for_retry", "success"),
                 300, f"{task} try 1 to end")
        first = task_instance(airflow_api, ETL_DAG, run_id, task)
        assert lakefs.head_commit("main") == main_before  # nothing published from a failed extract
        time.sleep(2)  # the source stays down a while (the retry comes RETRY_DELAY s after try 1)
    finally:
        set_source_available(stack, True)
    started_at = time.time()
    state = airflow_api.wait_for_run(ETL_DAG, run_id, timeout=600)
    assert state == "success", airflow_api.task_states(ETL_DAG, run_id)
    extract = task_instance(airflow_api, ETL_DAG, run_id, task)
    extracted = airflow_api.xcom(ETL_DAG, run_id, task)
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source", dbname="source")
    with conn, conn.cursor() as cur:  # the whole New York day, nothing lost to the outage
        cur.execute("SELECT count(*) FROM flights WHERE time_hour >= (%(day)s::date)::timestamp AT TIME ZONE "
                    "'America/New_York' AND time_hour < (%(day)s::date + 1)::timestamp AT TIME ZONE "
                    "'America/New_York'", {"day": day})
        assert extracted["source_rows"]["flights"] == cur.fetchone()[0]
    conn.close()
    commit_id = airflow_api.xcom(ETL_DAG, run_id, "commit")
    assert lakefs.commit_metadata(commit_id)["row_count"] == str(extracted["rows"])
    record_recovery(Recovery(
        "4. source database stopped during extract_to_branch, then started",
        f"extract try 1 {first['state']} (source unreachable); retried every {RETRY_DELAY} s (test stack) until the "
        "source is back "
        f"({started_at - stopped_at:.0f} s down)",
        timestamp(extract["end_date"]) - started_at, 0, 0,
        f"extract tries: {extract['try_number']}; recovery counted from the source's restart"))


# --------------------------------------------------------------------------- 5. PostgreSQL restart


def test_postgres_restarted_while_runs_are_queued(etl: None, stack: StackConfig, airflow_api: AirflowApi,
                                                  record_recovery: Callable[[Recovery], None]) -> None:
    dag_id, count = "stack_smoke", 4
    airflow_api.wait_for_dag(dag_id)
    airflow_api.unpause(dag_id)
    before = {run["dag_run_id"] for run in airflow_api.runs(dag_id)}
    run_ids = [airflow_api.trigger(dag_id) for _ in range(count)]
    airflow_pids = {name: info["pid"] for name, info in process_info(stack).items() if name.startswith("airflow-")}
    rpc = supervisor(stack)
    stopped_at = time.time()
    rpc.stopProcess("postgres", True)
    time.sleep(3)
    rpc.startProcess("postgres", True)
    down_seconds = time.time() - stopped_at
    wait_healthy(stack, "postgres", 120)
    back_at = time.time()
    states = {run_id: airflow_api.wait_for_run(dag_id, run_id, timeout=900) for run_id in run_ids}
    done_at = time.time()
    assert set(states.values()) == {"success"}, states
    after = [run["dag_run_id"] for run in airflow_api.runs(dag_id) if run["dag_run_id"] not in before]
    assert sorted(after) == sorted(run_ids)  # none lost, none duplicated
    first_task = min(timestamp(task_instance(airflow_api, dag_id, run_id, "read_source_sample")["start_date"])
                     for run_id in run_ids)
    restarted = sorted(name for name, info in process_info(stack).items()
                       if name in airflow_pids and info["pid"] != airflow_pids[name])
    record_recovery(Recovery(
        "5. PostgreSQL (Airflow metadata) restarted while runs are queued",
        f"Airflow components that exited on the lost connection, restarted by supervisord: "
        f"{', '.join(restarted) or 'none'}; the first queued task started {first_task - back_at:.0f} s after "
        "PostgreSQL was back",
        done_at - stopped_at, 0, 0,
        f"PostgreSQL down {down_seconds:.0f} s; {count}/{count} queued runs succeeded, none duplicated"))


# --------------------------------------------------------------------------- 6. production Bento killed


@dataclass(frozen=True)
class Answer:
    """One prediction request through the proxy: when it was sent, how long it took, what came back."""

    sent_at: float
    seconds: float
    status: int | None
    served_by: str | None = None
    clean: bool = False  # a 200 with predictions, or a 503 whose body is JSON naming an error
    error: str | None = None


class BoundedClient(threading.Thread):
    """Sends one-record predictions to a loopback endpoint, one at a time on a new connection each, a few
    dozen a second at most, until stopped: at most ``limit`` requests and ``seconds`` of sending."""

    def __init__(self, url: str, records: list[dict[str, Any]], limit: int = 5000, seconds: float = 300,
                 timeout: float = PROXY_ANSWER_BOUND) -> None:
        super().__init__(daemon=True)
        assert url.startswith("http://127.0.0.1:"), url  # loopback only
        self.url, self.records, self.limit, self.seconds, self.timeout = url, records, limit, seconds, timeout
        self.answers: list[Answer] = []
        self.halt = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.seconds
        while not self.halt.is_set() and len(self.answers) < self.limit and time.monotonic() < deadline:
            sent_at, started = time.time(), time.monotonic()
            try:
                response = requests.post(f"{self.url}/predict", json={"records": self.records}, timeout=self.timeout,
                                         headers={"Connection": "close"})
                self.answers.append(Answer(sent_at, time.monotonic() - started, response.status_code,
                                           response.headers.get(SERVED_BY), clean_answer(response)))
            except requests.RequestException as error:
                self.answers.append(Answer(sent_at, time.monotonic() - started, None, error=repr(error)))
            time.sleep(0.03)

    def first_success_after(self, moment: float) -> Answer | None:
        return next((a for a in list(self.answers) if a.sent_at > moment and a.status == 200), None)

    def stop(self) -> None:
        self.halt.set()
        self.join(self.timeout + 10)


def running(pid: int) -> bool:
    """The process exists and is not a zombie (an exited child its parent has not reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def children_of(pid: int) -> list[int]:
    return [child for child in map(int, filter(str.isdigit, os.listdir("/proc"))) if parent_of(child) == pid]


def clean_answer(response: requests.Response) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    if response.status_code == 200:
        return isinstance(body, list) and len(body) == 1 and "model_version" in body[0]
    return response.status_code == 503 and isinstance(body, dict) and bool(body.get("error")) \
        and response.headers.get("Content-Type", "").startswith("application/json")


def feature_records(usecase: UseCase, day: date, rows: int = 1) -> list[dict[str, Any]]:
    """Rows of a real day's curated partition, features only (what a client of the endpoint sends)."""
    from tests.support.source_data import partition

    frame = partition(usecase.name, day)[usecase.features].head(rows)
    return list(json.loads(frame.to_json(orient="records")))


def production_program(stack: StackConfig, mlflow_client: MlflowClient) -> tuple[str, str]:
    """The program serving flights' production slot, and the slot's endpoint on the proxy.

    In a full session the deployment e2e tests left a Bento there; alone, this packages the newest flights
    model version (fault 2's, or one trained here on offline source data) and switches the slot to it with
    the deployment's own ``switch`` (the Bento, supervisord and nginx are real; only Airflow is skipped).
    """
    layout = SlotLayout.load(stack.home / "serving")
    usecase = load_usecase("flights")
    state = read_slot(layout, usecase.name, "production")
    if state is not None:
        program = layout.program(usecase.name, "production", state.color)
        if process_info(stack).get(program, {}).get("statename") == "RUNNING":
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{layout.endpoint(usecase.name, 'production')}/readyz", timeout=10).status_code == 200:
                    return program, layout.endpoint(usecase.name, "production")
    versions = [int(v.version) for v in mlflow_client.search_model_versions(f"name = '{MODEL}'")]
    if versions:
        version = str(max(versions))
    else:
        first, last = date(2013, 2, 4), date(2013, 3, 3)
        pinned = PinnedData(usecase.lakefs_repository, "f" * 64, "main", first, last, (last - first).days + 1)
        data = DataRef(usecase.lakefs_repository, pinned.commit_id, usecase.dataset_prefix, "http://127.0.0.1", "")
        version = str(train_and_log(mlflow_client, usecase, run_settings_for(usecase, pinned),
                                    source_partitions(usecase.name, first, last), data,
                                    {"airflow_run_id": "fault-6", "airflow_task_id": "train"}, "test").model_version)
    bento = build_bento(mlflow_client, usecase, version, layout.bentoml_home, "test")
    state = switch(SupervisorControl(str(stack.supervisor_socket)), layout, usecase.name, "production", bento.tag,
                   bento.environment, version, usecase.require_serving().ready_timeout_seconds)
    return layout.program(usecase.name, "production", state.color), layout.endpoint(usecase.name, "production")


def test_production_bento_killed_the_proxy_answers_cleanly_and_supervisord_restarts_it(
        stack: StackConfig, stack_connections: None, mlflow_client: MlflowClient,
        record_recovery: Callable[[Recovery], None]) -> None:
    program, url = production_program(stack, mlflow_client)
    records = feature_records(load_usecase("flights"), date(2013, 3, 4))
    assert requests.post(f"{url}/predict", json={"records": records}, timeout=30).status_code == 200
    client = BoundedClient(url, records)
    client.start()
    try:
        wait_for(lambda: client.first_success_after(0), 30, "the client's first prediction")
        pid = program_pid(stack, program)
        workers = children_of(pid)  # BentoML's workers: circus starts each in a session (and group) of its own
        assert workers, f"{program} (pid {pid}) has no worker processes"
        os.killpg(pid, signal.SIGKILL)  # the server's process group, as supervisord's killasgroup or an OOM kill
        killed_at = time.time()
        restarted = wait_for(lambda: (info := process_info(stack)[program])["pid"] not in (0, pid)
                             and info["statename"] in ("STARTING", "RUNNING") and info, 60,
                             f"supervisord to restart {program}", interval=0.2)
        restarted_after = time.time() - killed_at
        recovered = wait_for(lambda: client.first_success_after(killed_at), 300, "production to answer 200 again")
        recovered_at = recovered.sent_at + recovered.seconds
        time.sleep(1)
    finally:
        client.stop()
    answers = client.answers
    unclean = [a for a in answers if not a.clean or a.seconds > PROXY_ANSWER_BOUND]
    assert unclean == [], unclean[:5]  # every answer a 200 or a JSON 503, in time: no hang, no reset
    during = [a for a in answers if killed_at < a.sent_at < recovered.sent_at]
    assert during and {a.status for a in during} <= {200, 503}, during[:5]
    outage = [a for a in during if a.status == 503]
    assert recovered.served_by == program  # the slot's own server, restarted: nothing else serves it
    assert program_pid(stack, program) == restarted["pid"]  # restarted once, running since
    assert [w for w in workers if running(w)] == []  # no orphan kept the port (or served)
    slowest = max(a.seconds for a in answers)
    record_recovery(Recovery(
        "6. production Bento killed (SIGKILL to its process group) while a client sends predictions",
        f"supervisord restarts {program} at once (new pid seen after {restarted_after:.1f} s); the nginx "
        "proxy answers 503 JSON at once until the restarted server is ready (serve_bento.py holds the slot)",
        recovered_at - killed_at, 0, 0,
        f"{len(answers)} requests: {sum(a.status == 200 for a in answers)} x 200, {len(outage)} x 503 during the "
        f"outage, 0 failed or hung (slowest answer {slowest:.2f} s)"))

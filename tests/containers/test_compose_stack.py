"""The compose stack for real (podman here): images built (layers cached between runs), ``docker-compose.yaml``
up and healthy, the ETL and training through its Airflow REST API on two Celery workers, lakeFS on PostgreSQL
KV, then ``make compose-down`` leaving no container, network or volume of the project.

Its own compose project (``mlops-test``) on free loopback ports, so it never touches a developer's ``mlops``
stack. It runs as the ``staging`` environment (``config/environments/staging.yaml``): repository
``flights-staging``, registered model ``flights_delay_staging``, alerts through ``slack_alerts_staging``.
Training needs 21 days of curated flights (14 to train on, 7 held out): the first 17 are written straight
to lakeFS (``tests/support/curated_seed.py``, seconds), the last 4 by an ``etl_flights`` backfill through the
scheduler and the workers. The tests run in file order and depend on each other (one stack per module).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg2
import pytest

from scripts.airflow_api import AirflowApi
from tests.conftest import REPO_ROOT, free_ports

PROJECT = os.environ.get("MLOPS_COMPOSE_TEST_PROJECT", "mlops-test")
WORKERS = {"airflow-worker-1", "airflow-worker-2"}
SERVICES = {"postgres", "redis", "lakefs", "mlflow", "alert-sink", "airflow-init", "airflow-apiserver",
            "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer", *WORKERS}
SEEDED = (date(2013, 1, 1), date(2013, 1, 17))  # straight to lakeFS
BACKFILLED = ("2013-01-18", "2013-01-21")  # through the scheduler and the Celery workers
ENVIRONMENT = "staging"
MODEL = "flights_delay_staging"  # staging's naming of flights_delay
TIMEZONE = "America/New_York"  # etl_flights' timetable runs in its source's time zone
ACCESS_KEY, SECRET_KEY = "AKIAIOSFOLQUICKSTART", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # pragma: allowlist secret


@dataclass(frozen=True)
class ComposeStack:
    env: dict[str, str]
    airflow_port: int
    lakefs_port: int
    mlflow_port: int
    pg_port: int

    @property
    def airflow_url(self) -> str:
        return f"http://127.0.0.1:{self.airflow_port}"


def run(command: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["nice", "-n", "19", "ionice", "-c3", *command], cwd=REPO_ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


def require(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        pytest.fail(f"{what} failed (exit {result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}",
                    pytrace=False)


def engine_ready() -> None:
    """podman (or the engine CONTAINER_ENGINE names) and docker-compose must be there: ``make images`` installs
    them on Debian; anywhere else this tier fails and says so rather than skipping."""
    engine = os.environ.get("CONTAINER_ENGINE", "podman")
    if engine == "podman" and not shutil.which("apt-get") and not shutil.which("podman"):
        pytest.fail("the containers tier needs podman (Debian's package; scripts/install_podman.sh installs it)",
                    pytrace=False)


def leftovers(env: dict[str, str]) -> dict[str, list[str]]:
    engine = env.get("CONTAINER_ENGINE", "podman")
    label = f"label=com.docker.compose.project={PROJECT}"
    found = {}
    for kind, args in (("containers", ["ps", "-a", "--filter", label, "--format", "{{.Names}}"]),
                       ("networks", ["network", "ls", "--filter", label, "--format", "{{.Name}}"]),
                       ("volumes", ["volume", "ls", "--filter", label, "--format", "{{.Name}}"])):
        result = subprocess.run([engine, *args], env=env, capture_output=True, text=True, check=True)
        found[kind] = result.stdout.split()
    return found


@pytest.fixture(scope="module")
def compose_stack() -> Iterator[ComposeStack]:
    engine_ready()
    airflow, lakefs, mlflow, pg, smtp, webhook, serving = free_ports(7)
    env = {**os.environ, "COMPOSE_PROJECT_NAME": PROJECT, "COMPOSE_AIRFLOW_PORT": str(airflow),
           "COMPOSE_LAKEFS_PORT": str(lakefs), "COMPOSE_MLFLOW_PORT": str(mlflow), "COMPOSE_PG_PORT": str(pg),
           "COMPOSE_SMTP_PORT": str(smtp), "COMPOSE_WEBHOOK_PORT": str(webhook), "COMPOSE_SERVING_PORT": str(serving),
           "CONTAINERS_CONF": str(REPO_ROOT / "deploy" / "podman" / "containers.conf"),
           "MLOPS_ENVIRONMENT": ENVIRONMENT}
    stack = ComposeStack(env, airflow, lakefs, mlflow, pg)
    compose = [sys.executable, str(REPO_ROOT / "scripts" / "compose.py")]
    require(run([*compose, "down"], env, 300), "removing an earlier run's stack")  # a crashed session's leftovers
    started = time.monotonic()
    require(run(["make", "images"], env, 3600), "make images")
    print(f"\nmake images: {time.monotonic() - started:.0f}s")
    started = time.monotonic()
    try:
        require(run([*compose, "up"], env, 1200), "compose up")
        print(f"compose up: {time.monotonic() - started:.0f}s")
        yield stack
    finally:  # after a failure (a failed start included); normally test_compose_down_leaves_nothing did it
        run([*compose, "down"], env, 300)


@pytest.fixture(scope="module")
def api(compose_stack: ComposeStack) -> AirflowApi:
    return AirflowApi(compose_stack.airflow_url, "admin", "admin")


@pytest.fixture(scope="module")
def connections(compose_stack: ComposeStack) -> Iterator[None]:
    """``AIRFLOW_CONN_*`` from airflow_settings.yaml with the stack's published endpoints (for the lakeFS seed)."""
    from scripts.airflow_settings import connection_env, load_settings

    values = connection_env(load_settings({
        "PG_HOST": "127.0.0.1", "PG_PORT": str(compose_stack.pg_port), "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": compose_stack.env["COMPOSE_SMTP_PORT"], "WEBHOOK_HOST": "127.0.0.1",
        "WEBHOOK_PORT": compose_stack.env["COMPOSE_WEBHOOK_PORT"],
        "LAKEFS_ENDPOINT": f"http://127.0.0.1:{compose_stack.lakefs_port}", "LAKEFS_ACCESS_KEY_ID": ACCESS_KEY,
        "LAKEFS_SECRET_ACCESS_KEY": SECRET_KEY, "LAKEFS_REPOSITORY": "flights",
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{compose_stack.mlflow_port}",
        "SERVING_HOME": "/nonexistent", "SUPERVISOR_SOCKET": "/nonexistent"}))
    values["MLOPS_ENVIRONMENT"] = ENVIRONMENT  # this process names things as the stack does
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def inspect(env: dict[str, str], kind: str, name: str, template: str) -> str:
    engine = env.get("CONTAINER_ENGINE", "podman")
    return subprocess.run([engine, kind, "inspect", "--format", template, name], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def task_instances(api: AirflowApi, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    return list(api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"])


def test_every_service_is_healthy(compose_stack: ComposeStack) -> None:
    result = run([sys.executable, str(REPO_ROOT / "scripts" / "compose.py"), "status"], compose_stack.env, 120)
    states = dict(line.split(None, 1) for line in result.stdout.splitlines() if line.strip()
                  and not line.strip().startswith("health-check"))
    assert set(states) == SERVICES, result.stdout
    assert all(state == "healthy" for service, state in states.items() if service != "airflow-init"), result.stdout
    assert states["airflow-init"] == "exited(0)", result.stdout


def test_ports_are_published_on_loopback_only(compose_stack: ComposeStack) -> None:
    engine = compose_stack.env.get("CONTAINER_ENGINE", "podman")
    listed = subprocess.run([engine, "ps", "--filter", f"label=com.docker.compose.project={PROJECT}", "--format",
                             "{{.Names}} {{.Ports}}"], env=compose_stack.env, capture_output=True, text=True,
                            check=True).stdout
    published = [part.strip() for line in listed.splitlines() for part in line.partition(" ")[2].split(",")
                 if "->" in part]
    expected = {compose_stack.airflow_port, compose_stack.lakefs_port, compose_stack.mlflow_port, compose_stack.pg_port}
    assert {int(p.split("->")[0].rsplit(":", 1)[1]) for p in published} >= expected, listed
    assert all(p.startswith("127.0.0.1:") for p in published), f"a port published beyond loopback:\n{listed}"


def test_lakefs_keeps_its_metadata_in_postgresql(compose_stack: ComposeStack, api: AirflowApi) -> None:
    """database.type postgres: lakeFS's KV table in its PostgreSQL database holds the repository created by
    airflow-init (the embedded local store would leave that database empty)."""
    conn = psycopg2.connect(host="127.0.0.1", port=compose_stack.pg_port, user="lakefs", dbname="lakefs",
                            password="lakefs", connect_timeout=10)  # pragma: allowlist secret
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            tables = {row[0] for row in cur.fetchall()}
            assert "kv" in tables, f"no KV table in lakeFS's PostgreSQL database: {tables}"
            cur.execute("SELECT count(*) FROM kv WHERE convert_from(key, 'UTF8') LIKE %s", ("%flights%",))
            assert cur.fetchone()[0] > 0, "the flights repository is not in lakeFS's PostgreSQL KV table"
    finally:
        conn.close()


def test_etl_backfill_runs_on_the_celery_workers(api: AirflowApi, connections: None) -> None:
    from tests.support.curated_seed import seed_curated_days

    seed_curated_days("flights", *SEEDED)
    api.wait_for_dag("etl_flights")
    api.unpause("etl_flights")
    started = time.monotonic()
    backfill = api.wait_for_backfill(api.backfill("etl_flights", *BACKFILLED, timezone=TIMEZONE), timeout=1800)
    runs = [r for r in api.runs("etl_flights")  # a day's run starts at its data interval's start (05:00 UTC)
            if BACKFILLED[0] <= (r["data_interval_start"] or "")[:10] <= BACKFILLED[1]]
    print(f"\netl_flights backfill of {len(runs)} days: {time.monotonic() - started:.0f}s")
    failed = {r["dag_run_id"]: {ti["task_id"]: ti["state"]
                                for ti in task_instances(api, "etl_flights", r["dag_run_id"])}
              for r in runs if r["state"] != "success"}
    assert len(runs) == 4 and not failed, f"backfill {backfill}: failed runs {failed}"


def test_training_passes_the_gate(api: AirflowApi) -> None:
    api.wait_for_dag("train_flights")
    api.unpause("train_flights")  # deploy_flights stays paused: serving is not part of the compose stack
    started = time.monotonic()
    run_id = api.trigger("train_flights")
    state = api.wait_for_run("train_flights", run_id, timeout=1800)
    tasks = api.task_states("train_flights", run_id)
    print(f"\ntrain_flights: {state} in {time.monotonic() - started:.0f}s: {tasks}")
    assert state == "success" and tasks.get("train") == "success" and tasks.get("evaluation_gate") == "success", tasks
    pinned, trained = api.xcom("train_flights", run_id, "pin_data"), api.xcom("train_flights", run_id, "train")
    assert pinned["window_start"] <= SEEDED[0].isoformat() and pinned["window_end"] >= BACKFILLED[1], pinned
    assert trained["model_name"] == MODEL and trained["model_version"], trained


def test_bento_image_serves_the_trained_model(compose_stack: ComposeStack, api: AirflowApi, connections: None,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    """The model version just trained, packaged as a Bento (as deploy_flights packages it) and built into an
    image (scripts/bento_image.py), answers /predict from a container; then the compose stack's serving profile
    serves that very image behind its proxy: same image ID (digest) and the same Bento tag in its label."""
    import pandas as pd
    import requests

    from include.common.metadata import Artifact
    from include.common.usecase import load_usecase
    from include.serving.packaging import build_bento
    from mlops.hooks.mlflow import MlflowHook
    from scripts.bento_image import BENTO_TAG_LABEL, build

    client = MlflowHook().get_conn()
    version = max(client.search_model_versions(f"name='{MODEL}'"), key=lambda v: int(v.version)).version
    started = time.monotonic()
    store = tmp_path_factory.mktemp("bentoml")
    bento = build_bento(client, load_usecase("flights"), str(version), store, "tests")
    image = f"localhost/bento-flights-delay:v{version}-{PROJECT}"
    seconds = build(bento.tag, store, image)
    print(f"\nBento {bento.tag}: built {time.monotonic() - started - seconds:.0f}s, image {seconds:.0f}s")
    engine, (port,) = compose_stack.env.get("CONTAINER_ENGINE", "podman"), free_ports(1)
    name = f"{PROJECT}-bento"
    subprocess.run([engine, "rm", "-f", name], env=compose_stack.env, capture_output=True, check=False)
    started = time.monotonic()
    require(run([engine, "run", "-d", "--name", name, "-p", f"127.0.0.1:{port}:3000", image], compose_stack.env, 120),
            "starting the Bento container")
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{url}/readyz", timeout=5).status_code == 200:
                    break
            time.sleep(2)
        else:
            logs = subprocess.run([engine, "logs", name], env=compose_stack.env, capture_output=True, text=True)
            pytest.fail(f"the Bento container was not ready within 300 s:\n{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        print(f"Bento container ready in {time.monotonic() - started:.0f}s")
        run_id = str(client.get_model_version(MODEL, str(version)).run_id)
        frame = pd.read_parquet(client.download_artifacts(run_id, Artifact.HOLDOUT_SAMPLE)).head(3)
        records = json.loads(frame.to_json(orient="records"))
        response = requests.post(f"{url}/predict", json={"records": records}, timeout=60)
        assert response.status_code == 200, response.text
        predictions = response.json()
        assert len(predictions) == 3 and all(p["model_version"] == str(version) for p in predictions), predictions
    finally:
        subprocess.run([engine, "rm", "-f", "-t", "5", name], env=compose_stack.env, capture_output=True, check=False)
    # the same image as the compose stack's "serving" profile, behind its nginx proxy
    started = time.monotonic()
    require(run([sys.executable, str(REPO_ROOT / "scripts" / "compose.py"), "serve", image], compose_stack.env, 600),
            "compose.py serve")
    proxy = f"http://127.0.0.1:{compose_stack.env['COMPOSE_SERVING_PORT']}"
    response = requests.post(f"{proxy}/predict", json={"records": records}, timeout=60)
    assert response.status_code == 200 and len(response.json()) == 3, response.text
    print(f"served behind the compose stack's nginx proxy in {time.monotonic() - started:.0f}s")
    # what was checked alone is what the proxy serves: the same image (digest) carrying the same Bento tag
    built = inspect(compose_stack.env, "image", image, "{{.Id}}")
    (served,) = subprocess.run([engine, "ps", "-q", "--filter", f"label=com.docker.compose.project={PROJECT}",
                                "--filter", "label=com.docker.compose.service=bento"], env=compose_stack.env,
                               capture_output=True, text=True, check=True).stdout.split()
    assert inspect(compose_stack.env, "container", served, "{{.Image}}") == built
    assert inspect(compose_stack.env, "image", built, f'{{{{index .Config.Labels "{BENTO_TAG_LABEL}"}}}}') == \
        bento.tag


def test_tasks_ran_on_both_celery_workers(api: AirflowApi) -> None:
    hosts: dict[str, int] = {}
    for dag_id in ("etl_flights", "train_flights"):
        for dag_run in api.runs(dag_id):
            for ti in task_instances(api, dag_id, dag_run["dag_run_id"]):
                if ti["state"] == "success" and ti.get("hostname"):
                    host = str(ti["hostname"]).split(".")[0]
                    hosts[host] = hosts.get(host, 0) + 1
    print(f"\ntasks per worker: {hosts}")
    assert set(hosts) == WORKERS, f"task instances' hostnames: {hosts}; expected exactly {WORKERS}"


def test_compose_down_leaves_nothing(compose_stack: ComposeStack) -> None:
    started = time.monotonic()
    require(run(["make", "compose-down"], compose_stack.env, 300), "make compose-down")
    print(f"\nmake compose-down: {time.monotonic() - started:.0f}s")
    left = leftovers(compose_stack.env)
    assert left == {"containers": [], "networks": [], "volumes": []}, f"left behind: {left}"

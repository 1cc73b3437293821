"""`down` stops every process of the stack through supervisord; `up` brings it back with the same data."""

from __future__ import annotations

import socket
import uuid

import mlflow
import requests

from include.serving.slots import SLOTS, SlotLayout, read_slot
from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi
from scripts.stack import (
    PROGRAMS,
    StackConfig,
    alive,
    recorded_supervisord,
    stack_processes,
    supervisor,
)
from tests.conftest import StackController


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def served_versions(cfg: StackConfig) -> dict[str, str]:
    """What each deployed slot answers through the proxy (after the deploy e2e tests: flights' slots)."""
    layout = SlotLayout.load(cfg.home / "serving")
    served = {}
    for usecase in layout.usecases:
        for slot in SLOTS:
            if read_slot(layout, usecase, slot) is not None:
                served[f"{usecase} {slot}"] = requests.get(f"{layout.endpoint(usecase, slot)}/readyz", timeout=10) \
                    .headers.get("X-Served-By", "")
    return served


def test_down_leaves_nothing_and_up_keeps_the_data(stack_controller: StackController,
                                                   stack_connections: None) -> None:
    cfg = stack_controller.config
    marker = f"restart-{uuid.uuid4().hex[:8]}"
    lakefs = LakeFSHook()
    lakefs.create_branch(marker)
    lakefs.upload(marker, f"{marker}.txt", b"kept")
    commit_id = lakefs.commit(marker, "before restart", {"marker": marker})
    mlflow.set_tracking_uri(cfg.mlflow_uri)
    mlflow.set_experiment("restart-test")
    with mlflow.start_run(run_name=marker) as run:
        mlflow.log_metric("kept", 1.0)

    session = recorded_supervisord(cfg)
    assert session is not None
    programs = {p["name"]: p for p in supervisor(cfg).getAllProcessInfo()}
    assert {name: p["statename"] for name, p in programs.items() if name in PROGRAMS} == \
        dict.fromkeys(PROGRAMS, "RUNNING")
    serving = served_versions(cfg)  # the slot servers deployments started
    assert all(serving.values()), serving
    processes = stack_processes(session)  # supervisord, its programs and all their children
    assert {session, *(p["pid"] for p in programs.values() if p["statename"] == "RUNNING")} <= set(processes)
    assert len(processes) > len(PROGRAMS) + 1  # executor workers, PostgreSQL backends, uvicorn...

    stack_controller.down()
    assert alive(processes) == []
    assert alive(stack_processes(session)) == []
    assert not cfg.supervisor_pidfile.exists()
    assert [name for name, port in cfg.ports.items() if listening(port)] == []

    stack_controller.up()
    assert LakeFSHook().repository().commit(commit_id).get_commit().metadata == {"marker": marker}
    assert mlflow.get_run(run.info.run_id).data.metrics == {"kept": 1.0}
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    assert api.call("GET", "/dags/stack_smoke")["dag_id"] == "stack_smoke"
    assert served_versions(cfg) == serving  # `make up` brings back each slot's server

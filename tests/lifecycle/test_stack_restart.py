"""`down` stops every process of the stack; `up` brings it back with the same data."""

from __future__ import annotations

import socket
import uuid

import mlflow

from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi
from scripts.stack import SERVICES, group_alive, pid_alive
from tests.conftest import StackController


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def recorded_pids(controller: StackController) -> dict[str, int]:
    run = controller.config.run
    return {p.stem: int(p.read_text()) for p in run.glob("*.pid")}


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
    pids = recorded_pids(stack_controller)
    assert set(pids) == {*SERVICES, "postgres"}

    stack_controller.down()
    assert [s for s, pid in pids.items() if group_alive(pid) or pid_alive(pid)] == []
    ports = {"postgres": cfg.pg_port, "lakefs": cfg.lakefs_port, "mlflow": cfg.mlflow_port,
             "airflow": cfg.airflow_port}
    assert [name for name, port in ports.items() if listening(port)] == []

    stack_controller.up()
    assert LakeFSHook().repository().commit(commit_id).get_commit().metadata == {"marker": marker}
    assert mlflow.get_run(run.info.run_id).data.metrics == {"kept": 1.0}
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    assert api.call("GET", "/dags/stack_smoke")["dag_id"] == "stack_smoke"

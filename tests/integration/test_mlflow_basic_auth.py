"""Training against an MLflow server with its built-in basic authentication: every call goes through
``MlflowHook``, which passes the connection's login and password; without them the server refuses."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from include.common.metadata import Alias, RunKind, TagKey
from include.common.registry import alias_version
from include.training.service import train_and_log
from include.training.tracking import DataRef, find_finished_run, run_settings
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.stack import StackConfig
from tests.conftest import free_ports
from tests.support.training_data import frame, settings, usecase

ADMIN, PASSWORD = "admin", "local-test-password"  # local placeholder for a throwaway loopback server


@pytest.fixture(scope="module")
def secured_mlflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``mlflow server --app-name basic-auth`` on a free loopback port, stopped by its process group."""
    home = tmp_path_factory.mktemp("mlflow-basic-auth")
    config = home / "basic_auth.ini"
    config.write_text(f"[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///{home}/auth.db\n"
                      f"admin_username = {ADMIN}\nadmin_password = {PASSWORD}\n"
                      "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n")
    (port,) = free_ports(1)
    log = (home / "mlflow.log").open("wb")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "server", "--app-name", "basic-auth", "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1", "--backend-store-uri", f"sqlite:///{home}/mlflow.db",
         "--serve-artifacts", "--artifacts-destination", str(home / "artifacts")],
        env={**os.environ, "MLFLOW_AUTH_CONFIG_PATH": str(config), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
             "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(32)},  # CSRF key of the auth app
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while not server_ready(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the basic-auth MLflow server did not start:\n{(home / 'mlflow.log').read_text()[-3000:]}",
                            pytrace=False)
            time.sleep(1)
        yield url
    finally:
        stop_group(server)
        log.close()


def stop_group(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, then SIGKILL what is left after 30 s."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def server_ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def mlflow_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, url: str, **fields: str) -> MlflowHook:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "mlflow", "host": url, **fields}))
    return MlflowHook(conn_id)


def test_training_and_gate_run_with_the_connections_credentials(
        secured_mlflow: str, stack: StackConfig, stack_connections: None, monkeypatch: pytest.MonkeyPatch) -> None:
    anonymous = requests.get(f"{secured_mlflow}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10)
    assert anonymous.status_code == 401, "the server must refuse requests without credentials"
    wrong = mlflow_connection(monkeypatch, "mlflow_wrong", secured_mlflow, login=ADMIN, password="wrong")
    ok, message = wrong.test_connection()
    assert not ok and secured_mlflow in message

    client = mlflow_connection(monkeypatch, "mlflow_secured", secured_mlflow, login=ADMIN, password=PASSWORD).get_conn()
    case = usecase()
    run_settings_ = settings()
    lakefs = LakeFSHook(repository=stack.lakefs_repository)
    data = DataRef(stack.lakefs_repository, "c0ffee" * 10, case.dataset_prefix, lakefs.endpoint, "http://127.0.0.1/x")
    tags = {"airflow_run_id": "manual__basic_auth", "airflow_task_id": "train"}
    logged = train_and_log(client, case, run_settings_, frame(), data, tags, "test-revision")

    assert logged.model_version == "1"
    assert find_finished_run(client, case, {**tags, TagKey.KIND: RunKind.TRAINING}) == logged
    assert run_settings(client, logged.run_id) == run_settings_
    assert client.get_run(logged.run_id).data.tags[TagKey.LAKEFS_COMMIT] == data.commit_id
    assert alias_version(client, logged.model_name, Alias.CHAMPION) is None
    client.set_registered_model_alias(logged.model_name, Alias.CHAMPION, "1")
    assert alias_version(client, logged.model_name, Alias.CHAMPION) == "1"
    version = client.get_model_version(logged.model_name, "1")
    assert version.tags[TagKey.RUN_ID] == logged.run_id and "Model card" in version.description

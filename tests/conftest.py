"""Shared test set-up: tiers by folder, and the session's real test stack.

Tiers: ``unit`` and ``dags`` need no server; ``integration``, ``e2e``, ``ui`` and ``lifecycle`` use a
separate stack (``.stack/test``, free loopback ports) that the ``stack`` fixture starts empty once
per session and stops at the end. If a server cannot start, the tests fail with its name and log.
``containers`` builds the images and runs its own compose stack (``tests/containers``).
"""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at import: point it at this repository, never at examples.
os.environ.setdefault("AIRFLOW_HOME", str(REPO_ROOT / ".stack" / "pytest-airflow-home"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
# One BLAS/OpenMP thread per process: on 2 shared cores scikit-learn's default threads made a fit 8x slower.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO_ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO_ROOT / "plugins")
# Tests run as the environment of the test stack they talk to (config/environments/test.yaml: dev's names);
# a test of another environment sets MLOPS_ENVIRONMENT itself.
os.environ["MLOPS_ENVIRONMENT"] = "test"
for key, value in {"GX_ANALYTICS_ENABLED": "False", "MLFLOW_DISABLE_TELEMETRY": "true",
                   "BENTOML_DO_NOT_TRACK": "True", "DO_NOT_TRACK": "1", "SCARF_ANALYTICS": "false"}.items():
    os.environ.setdefault(key, value)

from scripts.stack import StackConfig  # noqa: E402

FIXTURE_USECASES = REPO_ROOT / "tests" / "fixtures" / "usecases"
TIERS = ("unit", "dags", "integration", "e2e", "faults", "ui", "lifecycle", "containers")
TEST_RETRY_DELAY_SECONDS = 5  # every DAG's retry delay on the test stack (MLOPS_RETRY_DELAY_SECONDS)


def tier_of(item: pytest.Item) -> str:
    """The folder right under ``tests/`` (unit tests mirror the source tree below ``tests/unit``)."""
    try:
        parts = item.path.relative_to(REPO_ROOT / "tests").parts
    except ValueError:
        return ""
    return parts[0] if len(parts) > 1 else ""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its folder's tier; run the tiers in order, fast ones first, then the fault
    injections (they kill servers of the session's stack), lifecycle, then containers (its own compose stack)."""
    for item in items:
        tier = tier_of(item)
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    order = {tier: position for position, tier in enumerate(TIERS)}
    items.sort(key=lambda item: order.get(tier_of(item), len(TIERS)))


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports (the serving slots' ports), below the kernel's
    ephemeral range: the stack's other ports come from that range (``free_ports``), and a block inside it once
    held the port the kernel then gave MLflow, so a slot server found its port taken."""
    first_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(200):
        base = random.randrange(10000, first_ephemeral - count)
        if all(port_is_free(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports found")


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_stack_command(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "stack.py"), command],
                          env=env, capture_output=True, text=True, timeout=600, check=False)


def make_test_stack_env() -> dict[str, str]:
    pg, lakefs, mlflow, airflow, smtp, webhook, closed = free_ports(7)
    name = os.environ.get("MLOPS_TEST_STACK", "test")  # another name runs a second test stack beside it
    return {**os.environ, "STACK_NAME": name, "STACK_HOME": str(REPO_ROOT / ".stack" / name),
            "PG_PORT": str(pg), "LAKEFS_PORT": str(lakefs), "MLFLOW_PORT": str(mlflow),
            "AIRFLOW_PORT": str(airflow), "SMTP_PORT": str(smtp), "WEBHOOK_PORT": str(webhook),
            "SERVING_PORT_BASE": str(free_port_block(60)),  # up to 10 use cases with serving slots
            "AIRFLOW_PARALLELISM": "6", "PYTHONPATH": str(REPO_ROOT),
            # config/environments/test.yaml: the same names as dev, no automatic approval
            "MLOPS_ENVIRONMENT": "test",
            # every failure of the bad-input tests must alert: flood control is tested on its own
            "MLOPS_ALERT_BURST": "1000",
            # a task whose worker was killed is failed (then retried) 60 s after its last heartbeat (tests/faults)
            "MLOPS_TASK_HEARTBEAT_TIMEOUT": "60",
            # and retried 5 s after a failed try (production DAGs: 20-30 s): fault and bad-input tests wait less
            "MLOPS_RETRY_DELAY_SECONDS": str(TEST_RETRY_DELAY_SECONDS),
            "MLOPS_EXTRA_USECASE_DIRS": str(FIXTURE_USECASES),
            # a source that is down: nothing listens on this loopback port
            "AIRFLOW_CONN_SOURCE_UNREACHABLE": json.dumps({
                "conn_type": "postgres", "host": "127.0.0.1", "port": closed, "schema": "source",
                "login": "source", "password": "source", "extra": {"connect_timeout": 3}})}


class StackController:
    """Start and stop the session's test stack; tests read its endpoints from ``config``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.config = StackConfig.from_env(env)

    def up(self) -> None:
        result = run_stack_command("up", self.env)
        if result.returncode != 0:
            pytest.fail(f"The test stack did not start (state in {self.config.home}):\n"
                        f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}", pytrace=False)

    def clean(self) -> None:
        """Stop leftovers of an earlier session (recorded pids) and delete its state."""
        result = run_stack_command("clean", self.env)
        if result.returncode != 0:
            pytest.fail(f"Could not clean the test stack:\n{result.stdout}\n{result.stderr}", pytrace=False)

    def down(self) -> None:
        result = run_stack_command("down", self.env)
        if result.returncode != 0:
            pytest.fail(f"The test stack did not stop cleanly:\n{result.stdout}\n{result.stderr}", pytrace=False)


@pytest.fixture(scope="session")
def stack_controller() -> Iterator[StackController]:
    controller = StackController(make_test_stack_env())
    controller.clean()  # every session starts from an empty stack: tests never see old runs or data
    controller.up()
    yield controller
    controller.down()


@pytest.fixture(scope="session")
def stack(stack_controller: StackController) -> StackConfig:
    return stack_controller.config


@pytest.fixture(scope="session")
def stack_connections(stack: StackConfig) -> Iterator[None]:
    """Expose the test stack to hooks used outside Airflow tasks (``AIRFLOW_CONN_*``)."""
    from scripts.stack import client_connections

    values = client_connections(stack)
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    yield
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


@pytest.fixture(scope="session")
def airflow_api(stack: StackConfig):  # type: ignore[no-untyped-def]
    from scripts.airflow_api import AirflowApi

    return AirflowApi(stack.airflow_url, stack.admin_user, stack.admin_password)


def received_alerts(stack: StackConfig, channel: str) -> list[dict[str, object]]:
    """Alerts the test stack's real SMTP server / webhook endpoint received (``mail`` or ``webhook``)."""
    path = stack.alerts / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

import configparser
import os
import signal
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops.hooks.base_url import connection_url
from scripts import stack
from scripts.stack import PROGRAMS, StackConfig, alive, env_lines, stack_processes, supervisor_conf, terminate


def test_ports_and_home_come_from_the_environment(tmp_path: Path) -> None:
    cfg = StackConfig.from_env({"STACK_NAME": "x", "STACK_HOME": str(tmp_path), "PG_PORT": "1",
                                "LAKEFS_PORT": "2", "MLFLOW_PORT": "3", "AIRFLOW_PORT": "4"})
    assert (cfg.pg_port, cfg.lakefs_port, cfg.mlflow_port, cfg.airflow_port) == (1, 2, 3, 4)
    assert cfg.home == tmp_path
    assert cfg.pg_url("airflow") == "postgresql+psycopg2://airflow:airflow@127.0.0.1:1/airflow"


def test_env_lines_export_what_clients_need(tmp_path: Path) -> None:
    cfg = StackConfig.from_env({"STACK_HOME": str(tmp_path), "LAKEFS_PORT": "8123"})
    lines = "\n".join(env_lines(cfg))
    for name in ("LAKEFS_ENDPOINT", "LAKEFS_ACCESS_KEY_ID", "LAKEFS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_URI",
                 "AIRFLOW_API_URL", "AIRFLOW_USERNAME", "AIRFLOW_PASSWORD", "AIRFLOW_HOME"):
        assert f"export {name}=" in lines
    assert "export LAKEFS_ENDPOINT=http://127.0.0.1:8123" in lines


def test_the_local_stack_runs_as_dev_the_test_stacks_as_test_never_staging_or_prod(tmp_path: Path) -> None:
    from tests.conftest import make_test_stack_env

    cfg = StackConfig.from_env({"STACK_HOME": str(tmp_path)})
    stack.check_environment(cfg)
    assert cfg.environment == "dev" and "export MLOPS_ENVIRONMENT=dev" in "\n".join(env_lines(cfg))
    test = StackConfig.from_env(make_test_stack_env() | {"STACK_HOME": str(tmp_path)})
    stack.check_environment(test)
    assert stack.airflow_env(test)["MLOPS_ENVIRONMENT"] == "test"
    for name in ("staging", "prod"):
        with pytest.raises(stack.StackError, match=f"a local stack runs as dev or test; {name} needs real "):
            stack.check_environment(StackConfig.from_env({"STACK_HOME": str(tmp_path), "MLOPS_ENVIRONMENT": name}))
    with pytest.raises(stack.StackError, match="unknown environment 'production'"):
        stack.check_environment(StackConfig.from_env({"STACK_HOME": str(tmp_path), "MLOPS_ENVIRONMENT": "production"}))


def test_connection_url_accepts_full_urls_and_host_port_pairs() -> None:
    assert connection_url(SimpleNamespace(host="http://h:1/", schema=None, port=None)) == "http://h:1"
    assert connection_url(SimpleNamespace(host="h", schema="https", port=9)) == "https://h:9"
    assert connection_url(SimpleNamespace(host="h", schema=None, port=None)) == "http://h"


@pytest.fixture
def supervisord_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> configparser.RawConfigParser:
    """The generated supervisord.conf of a stack in ``tmp_path`` (no lakeFS or PostgreSQL install needed)."""
    monkeypatch.setattr(stack, "lakefs_binary", lambda: Path("/opt/lakefs/lakefs"))
    monkeypatch.setattr(stack, "pg_bin", lambda tool: f"/usr/lib/postgresql/15/bin/{tool}")
    cfg = StackConfig.from_env({"STACK_HOME": str(tmp_path / "stack"), "AIRFLOW_PORT": "18080"})
    parser = configparser.RawConfigParser()
    parser.read_string(supervisor_conf(cfg))
    return parser


def test_supervisord_runs_one_program_per_server_stopped_as_a_group(
        supervisord_config: configparser.RawConfigParser, tmp_path: Path) -> None:
    home = tmp_path / "stack"
    programs = {s.removeprefix("program:"): supervisord_config[s] for s in supervisord_config.sections()
                if s.startswith("program:")}
    servers = [name for name in programs if not name.startswith("bento-")]
    assert servers == list(PROGRAMS)
    slot_servers = [name for name in programs if name.startswith("bento-")]  # 2 slots x 2 colours per use case
    assert {"bento-flights-production-blue", "bento-hotels-staging-green"} <= set(slot_servers)
    assert "serve_bento.py" in programs["bento-flights-production-blue"]["command"]
    assert programs["serving-proxy"]["stopsignal"] == "QUIT"  # nginx's graceful shutdown
    for name, section in programs.items():
        assert section["stdout_logfile"] == str(home / "logs" / f"{name}.log")
        assert section["redirect_stderr"] == "true"
        assert section["killasgroup"] == "true"
        assert section["stopasgroup"] == ("false" if name == "postgres" else "true")
        assert 5 <= int(section["stopwaitsecs"]) <= 30
        assert (section["autostart"], section["autorestart"]) == ("false", "true")
    # PostgreSQL in the foreground, fast shutdown, loopback only; shut down last
    assert programs["postgres"]["command"].startswith("/usr/lib/postgresql/15/bin/postgres -D ")
    assert "listen_addresses=127.0.0.1" in programs["postgres"]["command"]
    assert programs["postgres"]["stopsignal"] == "INT"
    assert min(int(s["priority"]) for s in programs.values()) == int(programs["postgres"]["priority"])
    assert "--host 127.0.0.1" in programs["mlflow"]["command"]
    assert 'AIRFLOW__API__HOST="127.0.0.1"' in programs["airflow-api-server"]["environment"]
    assert 'AIRFLOW__API__PORT="18080"' in programs["airflow-scheduler"]["environment"]


def test_supervisord_listens_on_a_unix_socket_in_the_stack_home(
        supervisord_config: configparser.RawConfigParser, tmp_path: Path) -> None:
    home = tmp_path / "stack"
    assert "inet_http_server" not in supervisord_config
    assert supervisord_config["unix_http_server"]["file"] == str(home / "run" / "supervisor.sock")
    assert supervisord_config["unix_http_server"]["chmod"] == "0700"
    assert supervisord_config["supervisord"]["pidfile"] == str(home / "run" / "supervisord.pid")
    assert supervisord_config["supervisorctl"]["serverurl"] == f"unix://{home / 'run' / 'supervisor.sock'}"


def test_stack_processes_follow_the_session_and_children_that_leave_it() -> None:
    """``down`` finds and stops every process of supervisord's session, even a child in a session of its own."""
    leader = subprocess.Popen(["sh", "-c", "sleep 60 & setsid sleep 60 & wait"], start_new_session=True)
    try:
        assert stack.wait_until(lambda: len(stack_processes(leader.pid)) == 3, 5, interval=0.05)
        processes = stack_processes(leader.pid)
        assert leader.pid in processes
        terminate(processes, grace_seconds=5)
        leader.wait(timeout=5)
        assert alive(processes) == []
    finally:
        if leader.poll() is None:
            os.killpg(leader.pid, signal.SIGKILL)

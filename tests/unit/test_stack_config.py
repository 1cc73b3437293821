from types import SimpleNamespace

from mlops.hooks.base_url import connection_url
from scripts.stack import StackConfig, env_lines


def test_ports_and_home_come_from_the_environment(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = StackConfig.from_env({"STACK_NAME": "x", "STACK_HOME": str(tmp_path), "PG_PORT": "1",
                                "LAKEFS_PORT": "2", "MLFLOW_PORT": "3", "AIRFLOW_PORT": "4"})
    assert (cfg.pg_port, cfg.lakefs_port, cfg.mlflow_port, cfg.airflow_port) == (1, 2, 3, 4)
    assert cfg.home == tmp_path
    assert cfg.pg_url("airflow") == "postgresql+psycopg2://airflow:airflow@127.0.0.1:1/airflow"


def test_env_lines_export_what_clients_need(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cfg = StackConfig.from_env({"STACK_HOME": str(tmp_path), "LAKEFS_PORT": "8123"})
    lines = "\n".join(env_lines(cfg))
    for name in ("LAKEFS_ENDPOINT", "LAKEFS_ACCESS_KEY_ID", "LAKEFS_SECRET_ACCESS_KEY", "MLFLOW_TRACKING_URI",
                 "AIRFLOW_API_URL", "AIRFLOW_USERNAME", "AIRFLOW_PASSWORD", "AIRFLOW_HOME"):
        assert f"export {name}=" in lines
    assert "export LAKEFS_ENDPOINT=http://127.0.0.1:8123" in lines


def test_connection_url_accepts_full_urls_and_host_port_pairs() -> None:
    assert connection_url(SimpleNamespace(host="http://h:1/", schema=None, port=None)) == "http://h:1"
    assert connection_url(SimpleNamespace(host="h", schema="https", port=9)) == "https://h:9"
    assert connection_url(SimpleNamespace(host="h", schema=None, port=None)) == "http://h"

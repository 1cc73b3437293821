import json
import re
from pathlib import Path

import pytest
import yaml

from scripts.airflow_settings import (
    SettingsError,
    connection_env,
    load_settings,
    main,
    parse_settings,
    write_import_files,
)
from scripts.stack import DATABASES, StackConfig, client_connections, stack_variables

REPO_ROOT = Path(__file__).resolve().parents[3]
VARIABLES = {"PG_HOST": "db", "PG_PORT": "5999", "SMTP_HOST": "mail", "SMTP_PORT": "2525",
             "WEBHOOK_HOST": "hooks", "WEBHOOK_PORT": "2626",
             "LAKEFS_ENDPOINT": "http://127.0.0.1:1", "LAKEFS_ACCESS_KEY_ID": "key",
             "LAKEFS_SECRET_ACCESS_KEY": "secret", "LAKEFS_REPOSITORY": "repo",
             "MLFLOW_TRACKING_URI": "http://127.0.0.1:2", "AIRFLOW_API_URL": "http://127.0.0.1:3",
             "AIRFLOW_USERNAME": "u", "AIRFLOW_PASSWORD": "p", "SERVING_HOME": "/serving",
             "SUPERVISOR_SOCKET": "/run/supervisor.sock"}


def test_project_settings_file_maps_astro_keys_to_airflow_import_shapes() -> None:
    settings = load_settings(VARIABLES)
    connections = settings.connections
    assert set(connections) >= {"source_db", "lakefs_default", "mlflow_default", "smtp_default", "mlops_state",
                                "slack_alerts"}
    assert connections["source_db"]["port"] == 5999
    assert connections["source_db"]["host"] == "db"
    assert connections["source_db"]["conn_type"] == "postgres"
    assert connections["mlops_state"]["schema"] == "mlops"
    assert json.loads(connections["lakefs_default"]["extra"])["repository"] == "repo"
    assert connections["lakefs_default"]["host"] == "http://127.0.0.1:1"
    assert connections["slack_alerts"]["password"].startswith("http://hooks:2626/")
    assert all(set(p) == {"slots", "description", "include_deferred"} for p in settings.pools.values())
    assert all(isinstance(value, str) for value in settings.variables.values())


def test_every_variable_the_file_uses_is_provided_by_the_local_stack() -> None:
    lines = (REPO_ROOT / "airflow_settings.yaml").read_text().splitlines()
    used = set(re.findall(r"\$\{(\w+)\}", "\n".join(line for line in lines if not line.lstrip().startswith("#"))))
    assert used >= {"PG_HOST", "PG_PORT", "LAKEFS_ENDPOINT"}
    assert used <= set(stack_variables(StackConfig.from_env({}))) == set(VARIABLES)


def test_unknown_variable_is_a_clear_error() -> None:
    document = {"airflow": {"connections": [{"conn_id": "x", "conn_type": "http", "conn_host": "${NOPE}"}]}}
    with pytest.raises(SettingsError, match=r"\$\{NOPE\}"):
        parse_settings(document, VARIABLES)


def test_connection_without_type_is_rejected() -> None:
    with pytest.raises(SettingsError, match="conn_type"):
        parse_settings({"airflow": {"connections": [{"conn_id": "x"}]}}, VARIABLES)


def test_non_string_variable_values_are_json_encoded() -> None:
    document = {"airflow": {"variables": [{"variable_name": "limits", "variable_value": {"max": 3}}]}}
    assert parse_settings(document, VARIABLES).variables == {"limits": '{"max": 3}'}


def test_empty_document_gives_empty_settings() -> None:
    settings = parse_settings({}, VARIABLES)
    assert (settings.connections, settings.pools, settings.variables) == ({}, {}, {})


def test_import_files_are_what_airflow_import_commands_read(tmp_path: Path) -> None:
    """``airflow connections|pools|variables import`` read {id: fields} JSON files (docker-compose init)."""
    settings = load_settings(VARIABLES)
    files = write_import_files(settings, tmp_path)
    assert json.loads(files["connections"].read_text()) == settings.connections
    assert json.loads(files["pools"].read_text()) == settings.pools
    assert json.loads(files["variables"].read_text()) == settings.variables
    assert all(path.stat().st_mode & 0o077 == 0 for path in files.values())  # they hold passwords


def test_export_command_reads_names_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    for key, value in VARIABLES.items():
        monkeypatch.setenv(key, value)
    assert main(["export", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "connections.json").read_text())["source_db"]["host"] == "db"
    monkeypatch.delenv("PG_HOST")
    assert main(["export", str(tmp_path)]) == 1
    assert "${PG_HOST}" in capsys.readouterr().err


def test_clients_outside_airflow_get_the_same_connections(tmp_path: Path) -> None:
    cfg = StackConfig.from_env({"STACK_HOME": str(tmp_path), "PG_PORT": "5432"})
    env = client_connections(cfg)
    assert env == connection_env(load_settings(stack_variables(cfg)))
    source = json.loads(env["AIRFLOW_CONN_SOURCE_DB"])
    assert (source["host"], source["port"], source["schema"]) == ("127.0.0.1", 5432, "source")
    assert "AIRFLOW_CONN_MLOPS_STATE" in env


def test_docker_compose_loads_the_same_settings_file_with_airflow_import_commands() -> None:
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yaml").read_text())
    init = compose["services"]["airflow-init"]
    command = " ".join(init["command"])
    assert "scripts/airflow_settings.py export /tmp/settings" in command
    for kind in ("connections import --overwrite", "pools import", "variables import"):
        assert f"airflow {kind}" in command
    settings = load_settings({k: str(v) for k, v in init["environment"].items()})  # every ${NAME} is set
    assert settings.connections["source_db"]["host"] == "postgres"
    airflow_services = [name for name in compose["services"] if name.startswith("airflow-")]
    assert len(airflow_services) >= 7  # init, api-server, scheduler, dag-processor, triggerer, two workers
    # connections live in the metadata DB, loaded by airflow-init; only the webhooks that staging's and prod's
    # alert routes name come from the environment (the host's, defaulting to the stack's alert sink)
    from_env = {key: value for name in airflow_services
                for key, value in compose["services"][name]["environment"].items() if key.startswith("AIRFLOW_CONN_")}
    assert set(from_env) == {"AIRFLOW_CONN_SLACK_ALERTS_STAGING", "AIRFLOW_CONN_SLACK_ALERTS_PROD"}
    assert all(value.startswith(f"${{{key}:-slackwebhook://") for key, value in from_env.items()), from_env
    init_sql = (REPO_ROOT / "scripts" / "compose-init-db.sql").read_text()  # the postgres image runs it
    assert [db for db, role in {**DATABASES, "lakefs": "lakefs"}.items()
            if f"CREATE DATABASE {db} OWNER {role};" not in init_sql] == []

import json
from pathlib import Path

import pytest

from scripts.airflow_settings import SettingsError, load_settings, parse_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
VARIABLES = {"PG_PORT": "5999", "SMTP_PORT": "2525", "WEBHOOK_PORT": "2626",
             "LAKEFS_ENDPOINT": "http://127.0.0.1:1", "LAKEFS_ACCESS_KEY_ID": "key",
             "LAKEFS_SECRET_ACCESS_KEY": "secret", "LAKEFS_REPOSITORY": "repo",
             "MLFLOW_TRACKING_URI": "http://127.0.0.1:2", "AIRFLOW_API_URL": "http://127.0.0.1:3",
             "AIRFLOW_USERNAME": "u", "AIRFLOW_PASSWORD": "p"}


def test_project_settings_file_maps_astro_keys_to_rest_payloads() -> None:
    settings = load_settings(REPO_ROOT / "airflow_settings.yaml", VARIABLES)
    connections = {c["connection_id"]: c for c in settings.connections}
    assert set(connections) >= {"source_db", "lakefs_default", "mlflow_default"}
    assert connections["source_db"]["port"] == 5999
    assert connections["source_db"]["conn_type"] == "postgres"
    assert json.loads(connections["lakefs_default"]["extra"]) == {"repository": "repo"}
    assert connections["lakefs_default"]["host"] == "http://127.0.0.1:1"
    assert all(set(p) == {"name", "slots", "description", "include_deferred"} for p in settings.pools)


def test_unknown_variable_is_a_clear_error() -> None:
    document = {"airflow": {"connections": [{"conn_id": "x", "conn_type": "http", "conn_host": "${NOPE}"}]}}
    with pytest.raises(SettingsError, match=r"\$\{NOPE\}"):
        parse_settings(document, VARIABLES)


def test_connection_without_type_is_rejected() -> None:
    with pytest.raises(SettingsError, match="conn_type"):
        parse_settings({"airflow": {"connections": [{"conn_id": "x"}]}}, VARIABLES)


def test_non_string_variable_values_are_json_encoded() -> None:
    document = {"airflow": {"variables": [{"variable_name": "limits", "variable_value": {"max": 3}}]}}
    assert parse_settings(document, VARIABLES).variables == [{"key": "limits", "value": '{"max": 3}'}]


def test_empty_document_gives_empty_settings() -> None:
    settings = parse_settings({}, VARIABLES)
    assert (settings.connections, settings.pools, settings.variables) == ([], [], [])

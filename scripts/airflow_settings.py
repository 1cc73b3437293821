"""The one definition of Airflow connections, pools and variables: ``airflow_settings.yaml``.

Astro CLI format; ``${NAME}`` in a value is an endpoint of the stack (``make env`` lists them).
Read here into the shapes of Airflow's import files ({id: fields}), then loaded either way:
``import_over_api`` (the local stack: the official client's bulk calls, overwriting existing
entries, about 2 s) or ``python scripts/airflow_settings.py export DIR`` (``${NAME}`` from the
environment), which writes ``connections.json``, ``pools.json`` and ``variables.json`` for
``airflow connections import --overwrite`` / ``pools import`` / ``variables import -a overwrite``
(docker-compose's init service; each of those CLI calls costs 6-15 s of start-up here).
``connection_env`` gives hooks outside Airflow (scripts, tests) the same connections.
"""

from __future__ import annotations

import argparse
import json
import os
import string
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "airflow_settings.yaml"
CONNECTION_FIELDS = {"conn_type": "conn_type", "conn_host": "host", "conn_schema": "schema", "conn_login": "login",
                     "conn_password": "password", "conn_port": "port", "conn_extra": "extra"}  # Astro -> Airflow


class SettingsError(ValueError):
    """``airflow_settings.yaml`` is malformed or refers to an unknown ``${NAME}``."""


@dataclass
class AirflowSettings:
    """Entries keyed by id, each as ``airflow <kind> import`` reads it from JSON."""

    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    pools: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)


def substitute(value: Any, variables: dict[str, str]) -> Any:
    """Replace ``${NAME}`` in strings, recursively; unknown names are an error."""
    if isinstance(value, str):
        try:
            return string.Template(value).substitute(variables)
        except KeyError as missing:
            raise SettingsError(f"unknown variable ${{{missing.args[0]}}} in {value!r}") from None
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value


def connection(raw: dict[str, Any]) -> dict[str, Any]:
    if set(raw) - {"conn_id", *CONNECTION_FIELDS} or "conn_type" not in raw:
        raise SettingsError(f"connection {raw.get('conn_id')!r}: needs conn_id and conn_type; unknown keys "
                            f"{sorted(set(raw) - {'conn_id', *CONNECTION_FIELDS})}")
    fields = {CONNECTION_FIELDS[k]: v for k, v in raw.items() if k != "conn_id" and v is not None}
    if "port" in fields:
        fields["port"] = int(fields["port"])
    if isinstance(fields.get("extra"), dict):
        fields["extra"] = json.dumps(fields["extra"])
    return fields


def parse_settings(document: dict[str, Any] | None, variables: dict[str, str]) -> AirflowSettings:
    section = substitute((document or {}).get("airflow") or {}, variables)
    try:
        return AirflowSettings(
            connections={c["conn_id"]: connection(c) for c in section.get("connections") or []},
            pools={p["pool_name"]: {"slots": int(p["pool_slot"]), "description": p.get("pool_description", ""),
                                    "include_deferred": bool(p.get("pool_include_deferred", False))}
                   for p in section.get("pools") or []},
            variables={v["variable_name"]: v["variable_value"] if isinstance(v["variable_value"], str)
                       else json.dumps(v["variable_value"]) for v in section.get("variables") or []},
        )
    except KeyError as missing:
        raise SettingsError(f"an entry has no {missing} (needs conn_id and conn_type, pool_name and pool_slot, "
                            f"variable_name and variable_value)") from None


def load_settings(variables: dict[str, str], path: Path = SETTINGS_FILE) -> AirflowSettings:
    return parse_settings(yaml.safe_load(path.read_text()), variables)


def connection_env(settings: AirflowSettings) -> dict[str, str]:
    """``AIRFLOW_CONN_<ID>`` (JSON) for every connection: hooks outside Airflow find them there."""
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(fields) for conn_id, fields in settings.connections.items()}


def write_import_files(settings: AirflowSettings, folder: Path) -> dict[str, Path]:
    """``<kind>.json`` for Airflow's import commands; readable by the owner only (passwords)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {kind: folder / f"{kind}.json" for kind in ("connections", "pools", "variables")}
    for kind, path in files.items():
        path.touch(mode=0o600)
        path.write_text(json.dumps(getattr(settings, kind), indent=2) + "\n")
    return files


def import_over_api(settings: AirflowSettings, url: str, username: str, password: str) -> None:
    """Create every entry, overwriting existing ones, with the official client's bulk calls."""
    import airflow_client.client as airflow
    import requests

    token = requests.post(f"{url}/auth/token", json={"username": username, "password": password}, timeout=30)
    token.raise_for_status()
    client = airflow.ApiClient(airflow.Configuration(host=url, access_token=token.json()["access_token"]))
    for kind, call, body, entities in (
        ("connections", airflow.ConnectionApi(client).bulk_connections, airflow.BulkBodyConnectionBody,
         [{"connection_id": key, **fields} for key, fields in settings.connections.items()]),
        ("pools", airflow.PoolApi(client).bulk_pools, airflow.BulkBodyPoolBody,
         [{"name": key, **fields} for key, fields in settings.pools.items()]),
        ("variables", airflow.VariableApi(client).bulk_variables, airflow.BulkBodyVariableBody,
         [{"key": key, "value": value} for key, value in settings.variables.items()]),
    ):
        result = call(body.from_dict({"actions": [{"action": "create", "action_on_existence": "overwrite",
                                                   "entities": entities}]})).create
        if result and result.errors:
            raise SettingsError(f"Airflow refused {kind}: {result.errors}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write airflow_settings.yaml as Airflow's import files")
    parser.add_argument("command", choices=("export",))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    try:
        files = write_import_files(load_settings(dict(os.environ)), args.folder)
    except SettingsError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print(" ".join(map(str, files.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Read ``airflow_settings.yaml`` (Astro CLI format) into Airflow REST API payloads.

Values may refer to the stack's endpoints as ``${NAME}`` (for example ``${PG_PORT}``), so
the file stays right when ports are overridden.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

CONNECTION_FIELDS = {  # Astro CLI key -> Airflow REST API key
    "conn_id": "connection_id",
    "conn_type": "conn_type",
    "conn_host": "host",
    "conn_schema": "schema",
    "conn_login": "login",
    "conn_password": "password",
    "conn_port": "port",
    "conn_extra": "extra",
}


class SettingsError(ValueError):
    """``airflow_settings.yaml`` is malformed or refers to an unknown ``${NAME}``."""


@dataclass
class AirflowSettings:
    connections: list[dict[str, Any]] = field(default_factory=list)
    pools: list[dict[str, Any]] = field(default_factory=list)
    variables: list[dict[str, Any]] = field(default_factory=list)


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


def connection_payload(raw: dict[str, Any]) -> dict[str, Any]:
    unknown = set(raw) - set(CONNECTION_FIELDS)
    if unknown or "conn_id" not in raw or "conn_type" not in raw:
        raise SettingsError(f"connection {raw.get('conn_id')!r}: needs conn_id and conn_type; "
                            f"unknown keys {sorted(unknown)}")
    payload = {CONNECTION_FIELDS[k]: v for k, v in raw.items() if v is not None}
    if "port" in payload:
        payload["port"] = int(payload["port"])
    if isinstance(payload.get("extra"), dict):
        payload["extra"] = json.dumps(payload["extra"])
    return payload


def pool_payload(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        return {"name": raw["pool_name"], "slots": int(raw["pool_slot"]),
                "description": raw.get("pool_description", ""),
                "include_deferred": bool(raw.get("pool_include_deferred", False))}
    except KeyError as missing:
        raise SettingsError(f"pool {raw}: missing {missing}") from None


def variable_payload(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        value = raw["variable_value"]
        return {"key": raw["variable_name"],
                "value": value if isinstance(value, str) else json.dumps(value)}
    except KeyError as missing:
        raise SettingsError(f"variable {raw}: missing {missing}") from None


def parse_settings(document: dict[str, Any], variables: dict[str, str]) -> AirflowSettings:
    section = substitute((document or {}).get("airflow") or {}, variables)
    return AirflowSettings(
        connections=[connection_payload(c) for c in section.get("connections") or []],
        pools=[pool_payload(p) for p in section.get("pools") or []],
        variables=[variable_payload(v) for v in section.get("variables") or []],
    )


def load_settings(path: Path, variables: dict[str, str]) -> AirflowSettings:
    return parse_settings(yaml.safe_load(path.read_text()), variables)

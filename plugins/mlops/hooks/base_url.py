"""The service URL an HTTP-style connection points to."""

from __future__ import annotations

from typing import Any


def connection_url(connection: Any) -> str:
    """``host`` if it is a full URL, else ``schema://host:port`` (schema defaults to http)."""
    host = str(connection.host or "")
    if "://" not in host:
        host = f"{connection.schema or 'http'}://{host}"
        if connection.port:
            host = f"{host}:{connection.port}"
    return host.rstrip("/")

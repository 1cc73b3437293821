#!/usr/bin/python3
"""Health checks of the compose stack's services, with the standard library only (fast to start: podman
runs them every few seconds; ``airflow jobs check`` or ``celery inspect ping`` cost seconds of CPU each).

    mlops-health http URL [STATUS ...]    the URL answers with one of the statuses (default 200)
    mlops-health tcp HOST PORT            something accepts connections there
    mlops-health airflow COMPONENT        the API server's /api/v2/monitor/health reports COMPONENT healthy
                                          (metadatabase, scheduler, triggerer, dag_processor)
Exit 0 when healthy, 1 otherwise (with the reason on stderr).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request

TIMEOUT = 5.0


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def check(argv: list[str]) -> str | None:
    """None when healthy, else why not."""
    kind, *args = argv
    if kind == "http":
        expected = {int(code) for code in args[1:]} or {200}
        status = http_status(args[0])
        return None if status in expected else f"{args[0]} answered {status}, expected {sorted(expected)}"
    if kind == "tcp":
        socket.create_connection((args[0], int(args[1])), timeout=TIMEOUT).close()
        return None
    if kind == "airflow":
        base = os.environ.get("AIRFLOW_HEALTH_URL", "http://airflow-apiserver:8080")
        with urllib.request.urlopen(f"{base}/api/v2/monitor/health", timeout=TIMEOUT) as response:
            component = (json.load(response).get(args[0]) or {}).get("status")
        return None if component == "healthy" else f"Airflow reports {args[0]} {component!r}"
    return f"unknown check {kind!r}"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        problem = check(sys.argv[1:])
    except (OSError, ValueError) as error:
        problem = f"{type(error).__name__}: {error}"
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One-time provisioning of the compose stack, run by its ``airflow-init`` service after ``airflow db migrate``
and the settings import: the ETL's source database seeded (as ``make up`` seeds the local one; skipped when
already there) and every use case's lakeFS repository created under the environment's naming
(``MLOPS_ENVIRONMENT``: staging gives ``flights-staging``), both idempotent.

Endpoints from the environment: ``SOURCE_DB_URL`` (a libpq URL), ``LAKEFS_ENDPOINT``, ``LAKEFS_ACCESS_KEY_ID``,
``LAKEFS_SECRET_ACCESS_KEY``; ``SOURCE_CLOCK`` is ``history`` (default) or ``replay``.
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def seed_source_database(url: str, clock: str) -> None:
    import psycopg2

    from include.etl.source_seed import seed_source

    started = time.monotonic()
    conn = psycopg2.connect(url)
    try:
        counts = seed_source(conn, "replay" if clock == "replay" else "history", date.today())
    finally:
        conn.close()
    summary = ", ".join(f"{name} {rows:,}" for name, rows in counts.items())
    print(f"compose-init: source database ready, {clock} clock ({summary}; {time.monotonic() - started:.1f}s)")


def ensure_lakefs_admin(endpoint: str, key: str, secret: str, user: str = "admin") -> None:
    """First start: create the admin with the configured key. lakeFS applies ``LAKEFS_INSTALLATION_*`` by itself
    only on its local KV store; on PostgreSQL it waits for this setup call (or its /setup page)."""
    import requests

    state = requests.get(f"{endpoint}/api/v1/setup_lakefs", timeout=30)
    state.raise_for_status()
    if state.json().get("state") == "initialized":
        return
    response = requests.post(f"{endpoint}/api/v1/setup_lakefs", timeout=30, json={
        "username": user, "key": {"access_key_id": key, "secret_access_key": secret}})
    response.raise_for_status()
    print(f"compose-init: lakeFS set up with admin {user!r}")


def ensure_lakefs_repositories(endpoint: str, key: str, secret: str) -> None:
    import lakefs
    from lakefs.client import Client

    from include.common.environments import usecase_names
    from include.common.usecase import load_usecases

    ensure_lakefs_admin(endpoint, key, secret)
    client = Client(host=endpoint, username=key, password=secret)
    for usecase in load_usecases():
        repository = usecase_names(usecase).lakefs_repository
        lakefs.Repository(repository, client=client).create(
            storage_namespace=f"local://{repository}", default_branch="main", exist_ok=True)
        print(f"compose-init: lakeFS repository {repository} ready at {endpoint}")


def main() -> int:
    env = os.environ
    seed_source_database(env["SOURCE_DB_URL"], env.get("SOURCE_CLOCK", "history"))
    ensure_lakefs_repositories(env["LAKEFS_ENDPOINT"], env["LAKEFS_ACCESS_KEY_ID"], env["LAKEFS_SECRET_ACCESS_KEY"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

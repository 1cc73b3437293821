"""Flood control of failure alerts, shared by every worker through a PostgreSQL table.

The state lives in the database of the ``state_conn_id`` connection (``mlops_state`` by default,
the stack's ``mlops`` database), one row per key with a row lock around each decision (see
``include.common.alerting.admit_alert``). When that database cannot be reached the alert is sent
anyway (fail open) and the problem is logged: losing flood control is better than losing alerts.
"""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import cast

from include.common.alerting import AlertSettings, Connection, FloodDecision, admit_alert

log = logging.getLogger(__name__)

OPEN = FloodDecision(admitted=True, suppressed_before=0)


def admit(key: str, settings: AlertSettings) -> FloodDecision:
    """Whether an alert for ``key`` may go out now, and how many were suppressed before it."""
    if not settings.state_conn_id:
        return OPEN  # flood control switched off in configuration
    try:
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        # a psycopg 2 or 3 connection (the hook's declared protocol omits rollback, which both have)
        conn = cast(Connection, PostgresHook(postgres_conn_id=settings.state_conn_id).get_conn())
    except Exception:
        log.warning("flood control: state database %s unreachable; sending the alert anyway",
                    settings.state_conn_id, exc_info=True)
        return OPEN
    try:
        return admit_alert(conn, key, burst=settings.burst, window=settings.window_seconds)
    except Exception:
        log.warning("flood control: state update in %s failed; sending the alert anyway",
                    settings.state_conn_id, exc_info=True)
        return OPEN
    finally:
        with suppress(Exception):
            conn.close()

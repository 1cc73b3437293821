"""Alert settings, failure facts and flood control, independent of Airflow.

Settings: every alert setting comes from configuration, resolved in this order: an explicit
argument, the process environment (``MLOPS_ALERT_<NAME>``, e.g. ``MLOPS_ALERT_BURST``), the JSON Airflow
Variable ``mlops_alerts`` (``{"recipients": ..., "burst": ...}``), the routes of the deployment's
environment file (``alerts`` in ``config/environments/<env>.yaml``: recipients, sender, connection ids),
then the defaults below.

Flood control: a backfill of many failing days must not flood the inbox. Per DAG, at most
``burst`` alerts are sent per ``window_seconds``; the rest are counted, and the next alert that
goes out reports how many were suppressed (the Airflow UI still lists every failed run). The
decision is the pure function :func:`flood_decision`; :func:`admit_alert` applies it atomically
to a per-key row of a PostgreSQL table, so every worker on every machine shares one state.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field, fields, replace
from typing import Any, Protocol

ENV_PREFIX = "MLOPS_ALERT_"
VARIABLE_NAME = "mlops_alerts"
FLOOD_TABLE = "mlops_alert_flood_control"


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go and how many may go. An empty connection id switches that channel off."""

    recipients: str = "ml-platform-alerts@example.com"  # comma-separated
    from_email: str | None = None  # None: the SMTP connection's ``from_email`` extra
    smtp_conn_id: str = "smtp_default"
    webhook_conn_id: str = "slack_alerts"
    state_conn_id: str = "mlops_state"  # PostgreSQL holding the flood-control state
    burst: int = 3
    window_seconds: float = 600.0


def _coerce(name: str, value: Any) -> Any:
    if name == "burst":
        number = int(value)
        if number < 1:
            raise ValueError("must be at least 1")
        return number
    if name == "window_seconds":
        seconds = float(value)
        if seconds <= 0:
            raise ValueError("must be positive")
        return seconds
    if name == "recipients" and isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    if name == "from_email" and (value is None or value == ""):
        return None
    if not isinstance(value, (str, int, float)):
        raise ValueError(f"expected a string, got {type(value).__name__}")
    return str(value)


def resolve_alert_settings(env: Mapping[str, str], variable: Mapping[str, Any] | None = None,
                           routes: Mapping[str, Any] | None = None,
                           **overrides: Any) -> tuple[AlertSettings, list[str]]:
    """Settings from ``overrides`` (non-None) > ``env`` (``MLOPS_ALERT_*``) > ``variable`` > ``routes`` (the
    environment file's) > defaults.

    A value that does not parse is reported in the returned problems and the next source is used,
    so a typo in configuration never stops an alert.
    """
    unknown = set(overrides) - {f.name for f in fields(AlertSettings)}
    if unknown:
        raise TypeError(f"unknown alert settings: {sorted(unknown)}")
    problems = [f"Variable {VARIABLE_NAME}: unknown key {key!r}"
                for key in sorted(set(variable or {}) - {f.name for f in fields(AlertSettings)})]
    settings = AlertSettings()
    for spec in fields(AlertSettings):
        sources = [(f"argument {spec.name}", overrides.get(spec.name)),
                   (ENV_PREFIX + spec.name.upper(), env.get(ENV_PREFIX + spec.name.upper())),
                   (f"Variable {VARIABLE_NAME}[{spec.name!r}]", (variable or {}).get(spec.name)),
                   (f"environment alerts.{spec.name}", (routes or {}).get(spec.name))]
        for origin, raw in sources:
            if raw is None:
                continue
            try:
                settings = replace(settings, **{spec.name: _coerce(spec.name, raw)})
                break
            except (TypeError, ValueError) as error:
                problems.append(f"{origin}={raw!r} ignored: {error}")
    return settings, problems


@dataclass(frozen=True)
class FailureAlert:
    """What a failure alert says; the subject and body templates render these fields."""

    dag_id: str
    task_id: str
    run_id: str
    logical_date: str  # "" for a manual run
    error: str
    log_url: str
    try_number: int | None = None
    suppressed_before: int = 0

    @property
    def error_summary(self) -> str:
        """The error's first line, short enough for a subject."""
        text = self.error.strip()
        return text.splitlines()[0][:120] if text else "unknown error"

    def template_vars(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)} | {
            "error": self.error.strip() or "unknown error", "error_summary": self.error_summary}


# --------------------------------------------------------------------------- flood control


@dataclass(frozen=True)
class FloodState:
    """Per key: when the alerts inside the window were sent, and how many were held back since."""

    sent: tuple[float, ...] = ()
    suppressed: int = 0


@dataclass(frozen=True)
class FloodDecision:
    admitted: bool
    suppressed_before: int  # reported by this alert (always 0 when it is suppressed itself)
    state: FloodState = field(default_factory=FloodState)  # the state to store


def flood_decision(state: FloodState, now: float, *, burst: int, window: float) -> FloodDecision:
    """Admit an alert if fewer than ``burst`` went out in the last ``window`` seconds, else count it."""
    recent = tuple(t for t in state.sent if now - t < window)
    if len(recent) >= burst:
        return FloodDecision(False, 0, FloodState(recent, state.suppressed + 1))
    return FloodDecision(True, state.suppressed, FloodState((*recent, now), 0))


class Connection(Protocol):
    """The part of a DB-API connection to PostgreSQL (psycopg 2 or 3) that flood control uses."""

    def cursor(self) -> Any: ...

    def commit(self) -> Any: ...

    def rollback(self) -> Any: ...

    def close(self) -> Any: ...


CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {FLOOD_TABLE} (
    key text PRIMARY KEY,
    sent_at double precision[] NOT NULL DEFAULT '{{}}',
    suppressed integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
)"""


def ensure_flood_table(conn: Connection) -> None:
    """Create the state table once; concurrent first alerts serialise on an advisory lock."""
    with closing(conn.cursor()) as cur:
        try:
            cur.execute("SELECT to_regclass(%s) IS NOT NULL", (FLOOD_TABLE,))
            if not cur.fetchone()[0]:
                cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (FLOOD_TABLE,))
                cur.execute(CREATE_TABLE)
            conn.commit()
        except BaseException:
            conn.rollback()
            raise


def admit_alert(conn: Connection, key: str, *, burst: int, window: float,
                lock_timeout_ms: int = 5000) -> FloodDecision:
    """Decide and record one alert for ``key`` in a single transaction holding the key's row lock.

    Time is the database server's clock, so workers on machines with skewed clocks agree.
    """
    ensure_flood_table(conn)
    with closing(conn.cursor()) as cur:
        try:
            cur.execute(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
            cur.execute(f"INSERT INTO {FLOOD_TABLE} (key) VALUES (%s) ON CONFLICT (key) DO NOTHING", (key,))
            cur.execute(f"SELECT sent_at, suppressed FROM {FLOOD_TABLE} WHERE key = %s FOR UPDATE", (key,))
            sent, suppressed = cur.fetchone()
            cur.execute("SELECT extract(epoch FROM clock_timestamp())::double precision")
            now = float(cur.fetchone()[0])
            decision = flood_decision(FloodState(tuple(float(t) for t in sent or ()), int(suppressed)), now,
                                      burst=burst, window=window)
            cur.execute(f"UPDATE {FLOOD_TABLE} SET sent_at = %s::double precision[], suppressed = %s, "
                        "updated_at = now() WHERE key = %s",
                        (list(decision.state.sent), decision.state.suppressed, key))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return decision

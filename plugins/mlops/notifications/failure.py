"""Failure alerts: one email and one webhook message per failed task, flood-controlled per DAG.

Use ``failure_notifier()`` as a task's ``on_failure_callback`` (it runs in the worker after the
last try). Subject and body are Jinja templates rendered with the task context plus ``alert``
(``include.common.alerting.FailureAlert``: dag_id, task_id, run_id, logical_date, error,
error_summary, log_url, try_number, suppressed_before). Recipients, connection ids and the
flood-control limits come from configuration at notify time (``channels.read_alert_settings``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from include.common.alerting import AlertSettings, FailureAlert
from mlops.notifications.channels import EmailAndChatNotifier

FAILURE_SUBJECT = ("[Airflow] {{ alert.dag_id }}.{{ alert.task_id }} failed "
                   "({{ alert.logical_date or 'manual run' }}): {{ alert.error_summary }}")
FAILURE_BODY = """DAG: {{ alert.dag_id }}
Task: {{ alert.task_id }}
Run: {{ alert.run_id }}
Logical date: {{ alert.logical_date or '(manual run, none)' }}
Log: {{ alert.log_url }}

Error:
{{ alert.error }}
{%- if alert.suppressed_before %}

({{ alert.suppressed_before }} earlier failure alerts of this DAG were suppressed by flood control; \
see the Airflow UI for every failed run.)
{%- endif %}"""


def failure_alert(context: Mapping[str, Any], suppressed_before: int = 0) -> FailureAlert:
    ti = context["ti"]
    logical_date = context.get("logical_date")
    return FailureAlert(
        dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id,
        logical_date=logical_date.isoformat() if logical_date else "",
        error=str(context.get("exception") or "unknown error"), log_url=str(getattr(ti, "log_url", "")),
        try_number=getattr(ti, "try_number", None), suppressed_before=suppressed_before)


class FailureAlertNotifier(EmailAndChatNotifier):
    """Alert on a task's final failure, at most ``burst`` per DAG per window across all workers."""

    subject_template = FAILURE_SUBJECT
    body_template = FAILURE_BODY

    def __init__(self, *, burst: int | None = None, window_seconds: float | None = None,
                 state_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(burst=burst, window_seconds=window_seconds, state_conn_id=state_conn_id, **kwargs)

    def template_variables(self, context: Mapping[str, Any], settings: AlertSettings) -> dict[str, Any] | None:
        from mlops.notifications.flood_control import admit

        dag_id = context["ti"].dag_id
        decision = admit(f"failure:{dag_id}", settings)
        if not decision.admitted:
            self.log.warning("failure alert for %s suppressed by flood control (%d per %.0f s)",
                             dag_id, settings.burst, settings.window_seconds)
            return None
        return {"alert": failure_alert(context, decision.suppressed_before).template_vars()}


def failure_notifier(**kwargs: Any) -> FailureAlertNotifier:
    """The ``on_failure_callback`` of every task (arguments override configuration)."""
    return FailureAlertNotifier(**kwargs)


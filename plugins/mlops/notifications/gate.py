"""Gate-rejection notifications: a challenger the evaluation gate rejected (a normal outcome).

Not a failure alert: the task is skipped, not failed, and no flood control applies (one message
per rejected model version). Delivery, channels and configuration are those of every alert
(``channels.EmailAndChatNotifier``). Templates see the task context plus ``rejection``: dag_id,
task_id, run_id, log_url, verdict, reasons (list), mlflow_run_url.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from include.common.alerting import AlertSettings
from mlops.notifications.channels import EmailAndChatNotifier

REJECTION_SUBJECT = "[Airflow] {{ rejection.dag_id }}: challenger rejected by the evaluation gate"
REJECTION_BODY = """{{ rejection.verdict }}
DAG: {{ rejection.dag_id }}
Run: {{ rejection.run_id }}
MLflow run: {{ rejection.mlflow_run_url }}
Log: {{ rejection.log_url }}

Failed checks:
{%- for reason in rejection.reasons %}
- {{ reason }}
{%- endfor %}

Aliases are unchanged; downstream promotion is skipped."""


class GateRejectionNotifier(EmailAndChatNotifier):
    """Tell the team that a challenger was rejected, why, and where its MLflow run is."""

    subject_template = REJECTION_SUBJECT
    body_template = REJECTION_BODY

    def __init__(self, *, verdict: str, reasons: Sequence[str], mlflow_run_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.verdict = verdict
        self.reasons = list(reasons)
        self.mlflow_run_url = mlflow_run_url

    def template_variables(self, context: Mapping[str, Any], settings: AlertSettings) -> dict[str, Any] | None:
        ti = context["ti"]
        return {"rejection": {
            "dag_id": ti.dag_id, "task_id": ti.task_id, "run_id": ti.run_id,
            "log_url": str(getattr(ti, "log_url", "")), "verdict": self.verdict, "reasons": self.reasons,
            "mlflow_run_url": self.mlflow_run_url}}


def notify_gate_rejection(context: Mapping[str, Any], *, verdict: str, reasons: Sequence[str],
                          mlflow_run_url: str) -> list[str]:
    """Send the rejection notification from inside the gate task; never raises.

    Returns the channels that delivered it (e.g. ``["email via smtp_default", "webhook via slack_alerts"]``).
    """
    return GateRejectionNotifier(verdict=verdict, reasons=reasons, mlflow_run_url=mlflow_run_url).send(context)

"""Drift alerts: a monitored day beyond its use case's thresholds (what drifted, by how much, links).

Same channels and configuration as every alert (``channels.EmailAndChatNotifier``: SMTP + webhook,
settings read at notify time) and the same flood control as failure alerts, keyed per DAG
(``drift:<dag_id>``), so a burst of drifted days sends at most ``burst`` messages per window and the
next one says how many were held back. Templates see ``drift``: dag_id, run_id, day, usecase, model,
reasons (list), drifted_columns, drift_share, report_url, trend_url, lakefs_url, log_url,
suppressed_before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from include.common.alerting import AlertSettings
from mlops.notifications.channels import EmailAndChatNotifier

DRIFT_SUBJECT = ("[Airflow] {{ drift.dag_id }}: drift on {{ drift.day }} ({{ drift.usecase }}, "
                 "{{ drift.model }}): {{ drift.reasons | length }} finding(s)")
DRIFT_BODY = """Monitoring of {{ drift.model }} found drift on {{ drift.day }}.
DAG: {{ drift.dag_id }}
Run: {{ drift.run_id }}

Beyond the thresholds:
{%- for reason in drift.reasons %}
- {{ reason }}
{%- endfor %}

Drift report: {{ drift.report_url }}
Trend plot: {{ drift.trend_url }}
Reports on lakeFS: {{ drift.lakefs_url }}
Log: {{ drift.log_url }}
{%- if drift.suppressed_before %}

({{ drift.suppressed_before }} earlier drift alerts of this DAG were suppressed by flood control.)
{%- endif %}"""


class DriftAlertNotifier(EmailAndChatNotifier):
    subject_template = DRIFT_SUBJECT
    body_template = DRIFT_BODY

    def __init__(self, *, drift: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.drift = dict(drift)

    def template_variables(self, context: Mapping[str, Any], settings: AlertSettings) -> dict[str, Any] | None:
        from mlops.notifications.flood_control import admit

        ti = context["ti"]
        decision = admit(f"drift:{ti.dag_id}", settings)
        if not decision.admitted:
            self.log.warning("drift alert for %s suppressed by flood control (%d per %.0f s)", ti.dag_id,
                             settings.burst, settings.window_seconds)
            return None
        return {"drift": {**self.drift, "dag_id": ti.dag_id, "run_id": ti.run_id,
                          "log_url": str(getattr(ti, "log_url", "")),
                          "suppressed_before": decision.suppressed_before}}


def notify_drift(context: Mapping[str, Any], *, day: str, usecase: str, model: str, reasons: Sequence[str],
                 drifted_columns: Sequence[str], drift_share: float, report_url: str, trend_url: str,
                 lakefs_url: str) -> list[str]:
    """Send a drift alert from inside a task; never raises. Returns the channels that delivered it."""
    return DriftAlertNotifier(drift={
        "day": day, "usecase": usecase, "model": model, "reasons": list(reasons),
        "drifted_columns": list(drifted_columns), "drift_share": drift_share, "report_url": report_url,
        "trend_url": trend_url, "lakefs_url": lakefs_url}).send(context)

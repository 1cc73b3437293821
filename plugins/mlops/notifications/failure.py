"""Alerts (failures, gate rejections) by email (SMTP connection) and chat (Slack-compatible incoming webhook).

Use ``failure_notifier()`` as a task's ``on_failure_callback`` (it runs in the worker after
the last try). A channel whose connection is missing is logged and skipped, never fatal.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from airflow.sdk import BaseNotifier

STATE_ENV = "MLOPS_ALERT_STATE_DIR"
BURST_ENV = "MLOPS_ALERT_BURST"
WINDOW_ENV = "MLOPS_ALERT_WINDOW_SECONDS"
DEFAULT_RECIPIENTS = "ml-platform-alerts@example.com"


class FailureAlertNotifier(BaseNotifier):
    """Sends one alert per failed task to email and webhook, with per-DAG flood control."""

    template_fields = ("recipients",)

    def __init__(self, *, recipients: str = DEFAULT_RECIPIENTS, smtp_conn_id: str = "smtp_default",
                 webhook_conn_id: str = "slack_alerts", burst: int | None = None,
                 window_seconds: float | None = None) -> None:
        super().__init__()
        self.recipients = recipients
        self.smtp_conn_id = smtp_conn_id
        self.webhook_conn_id = webhook_conn_id
        self.burst = burst
        self.window_seconds = window_seconds

    def notify(self, context: Any) -> None:
        from include.common.alerting import FailureAlert, FloodControl

        ti = context["ti"]
        state_dir = Path(os.environ.get(STATE_ENV, Path(tempfile.gettempdir()) / "mlops-alerts"))
        burst = self.burst or int(os.environ.get(BURST_ENV, "3"))
        window = self.window_seconds or float(os.environ.get(WINDOW_ENV, "600"))
        admitted, suppressed = FloodControl(state_dir / "flood.json", burst, window).admit(ti.dag_id)
        if not admitted:
            self.log.warning("failure alert for %s suppressed by flood control", ti.dag_id)
            return
        logical_date = context.get("logical_date")
        alert = FailureAlert(
            dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id,
            logical_date=logical_date.isoformat() if logical_date else "",
            error=str(context.get("exception") or "unknown error"), log_url=ti.log_url,
            suppressed_before=suppressed)
        send_alert(alert.subject, alert.text(), recipients=self.recipients, smtp_conn_id=self.smtp_conn_id,
                   webhook_conn_id=self.webhook_conn_id)


def send_alert(subject: str, text: str, *, recipients: str = DEFAULT_RECIPIENTS, smtp_conn_id: str = "smtp_default",
               webhook_conn_id: str = "slack_alerts") -> None:
    """Send one alert by email and by webhook; a failing channel is logged, never raised."""
    import html
    import logging

    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    log = logging.getLogger(__name__)
    try:
        with SmtpHook(smtp_conn_id=smtp_conn_id) as smtp:
            smtp.send_email_smtp(to=recipients, subject=subject, html_content=f"<pre>{html.escape(text)}</pre>",
                                 mime_subtype="alternative")
    except Exception:
        log.exception("alert: email via %s failed", smtp_conn_id)
    try:
        SlackWebhookHook(slack_webhook_conn_id=webhook_conn_id).send(text=f"*{subject}*\n```{text}```")
    except Exception:
        log.exception("alert: webhook via %s failed", webhook_conn_id)


def failure_notifier() -> FailureAlertNotifier:
    return FailureAlertNotifier()

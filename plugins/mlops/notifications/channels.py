"""Email and chat delivery on the providers' notifiers, with settings read at notify time.

A subclass declares a subject and a body (plain-text Jinja templates) and the template variables it
adds to the task context; :class:`EmailAndChatNotifier` renders and sends them through
``SmtpNotifier`` (email, ``<pre>``-wrapped and escaped) and ``SlackWebhookNotifier`` (chat). A
channel that fails is logged and the other one still goes out; ``notify`` never raises, so a
broken mail server neither hides the webhook alert nor fails a task.

Configuration (recipients, connection ids, flood-control limits) is read when an alert is sent,
never at DAG parse time: see :func:`read_alert_settings`. The routes (recipients, connection ids) come
from the deployment's environment file (``config/environments/<env>.yaml``, ``alerts``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, ClassVar

from airflow.sdk import BaseNotifier

from include.common.alerting import VARIABLE_NAME, AlertSettings, resolve_alert_settings

log = logging.getLogger(__name__)

WEBHOOK_TIMEOUT_SECONDS = 10


def read_variable() -> Mapping[str, Any] | None:
    """The JSON Variable ``mlops_alerts``, or None when it is absent or cannot be read."""
    try:
        from airflow.sdk import Variable

        value = Variable.get(VARIABLE_NAME, default=None, deserialize_json=True)
    except Exception as error:  # noqa: BLE001 - configuration trouble must not stop an alert
        log.warning("alert settings: Variable %s unreadable (%s); environment and defaults apply",
                    VARIABLE_NAME, error)
        return None
    if value is not None and not isinstance(value, dict):
        log.warning("alert settings: Variable %s is not a JSON object; ignored", VARIABLE_NAME)
        return None
    return value


def environment_routes() -> Mapping[str, Any] | None:
    """The ``alerts`` routes of the deployment's environment file, or None when it cannot be read."""
    try:
        from include.common.environments import current_environment

        return current_environment().alerts.settings()
    except Exception as error:  # noqa: BLE001 - configuration trouble must not stop an alert
        log.warning("alert settings: environment routes unreadable (%s); Variable, environment and defaults "
                    "apply", error)
        return None


def read_alert_settings(**overrides: Any) -> AlertSettings:
    """Arguments > ``MLOPS_ALERT_*`` environment > Variable ``mlops_alerts`` > environment file > defaults."""
    settings, problems = resolve_alert_settings(os.environ, read_variable(), environment_routes(),
                                                **{k: v for k, v in overrides.items() if v is not None})
    for problem in problems:
        log.warning("alert settings: %s", problem)
    return settings


def email_html(body_template: str) -> str:
    return "<pre>{% filter escape %}" + body_template + "{% endfilter %}</pre>"


def chat_text(subject_template: str, body_template: str) -> str:
    return "*" + subject_template + "*\n```" + body_template + "```"


class EmailAndChatNotifier(BaseNotifier):
    """Render ``subject``/``body`` with the task context and send them by email and webhook."""

    subject_template: ClassVar[str]  # subclasses declare their templates; arguments override them
    body_template: ClassVar[str]

    def __init__(self, *, subject: str | None = None, body: str | None = None, recipients: str | None = None,
                 from_email: str | None = None, smtp_conn_id: str | None = None,
                 webhook_conn_id: str | None = None, **setting_overrides: Any) -> None:
        super().__init__()
        self.subject = subject or self.subject_template
        self.body = body or self.body_template
        self.setting_overrides: dict[str, Any] = {
            "recipients": recipients, "from_email": from_email, "smtp_conn_id": smtp_conn_id,
            "webhook_conn_id": webhook_conn_id, **setting_overrides}

    def settings(self) -> AlertSettings:
        return read_alert_settings(**self.setting_overrides)

    def template_variables(self, context: Mapping[str, Any], settings: AlertSettings) -> dict[str, Any] | None:
        """Variables added to the context for rendering; None means: send nothing."""
        return {}

    def channels(self, settings: AlertSettings) -> list[tuple[str, BaseNotifier]]:
        """Fresh provider notifiers (rendering mutates them), one per configured channel."""
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        channels: list[tuple[str, BaseNotifier]] = []
        if settings.smtp_conn_id:
            channels.append((f"email via {settings.smtp_conn_id}", SmtpNotifier(
                to=settings.recipients, from_email=settings.from_email, smtp_conn_id=settings.smtp_conn_id,
                subject=self.subject, html_content=email_html(self.body), mime_subtype="alternative")))
        if settings.webhook_conn_id:
            channels.append((f"webhook via {settings.webhook_conn_id}", SlackWebhookNotifier(
                slack_webhook_conn_id=settings.webhook_conn_id, text=chat_text(self.subject, self.body),
                timeout=WEBHOOK_TIMEOUT_SECONDS)))
        return channels

    def deliver(self, context: Mapping[str, Any], variables: Mapping[str, Any],
                settings: AlertSettings) -> list[str]:
        """Send on every channel; returns the names of the channels that accepted the message."""
        delivered = []
        for name, notifier in self.channels(settings):
            try:
                notifier({**context, **variables})
            except Exception:
                self.log.exception("alert: %s failed", name)
            else:
                delivered.append(name)
        return delivered

    def send(self, context: Mapping[str, Any]) -> list[str]:
        """Like ``notify`` but returns the channels that delivered; never raises."""
        try:
            settings = self.settings()
            variables = self.template_variables(context, settings)
            if variables is None:
                return []
            return self.deliver(context, variables, settings)
        except Exception:
            self.log.exception("alert: %s could not be sent", type(self).__name__)
            return []

    def notify(self, context: Any) -> None:
        self.send(context)


"""Fakes for the providers' hooks: the real SmtpNotifier / SlackWebhookNotifier render and call them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest


@dataclass
class Outbox:
    mails: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    smtp_broken: bool = False
    webhook_broken: bool = False


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Outbox]:
    box = Outbox()

    class FakeSmtpHook:
        from_email = "airflow@localhost"
        subject_template = None
        html_content_template = None

        def __init__(self, smtp_conn_id: str, auth_type: str = "basic") -> None:
            self.conn_id = smtp_conn_id

        def __enter__(self) -> FakeSmtpHook:
            if box.smtp_broken:
                raise ConnectionRefusedError("no SMTP server")
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def send_email_smtp(self, **kwargs: Any) -> None:
            box.mails.append({"conn_id": self.conn_id, **kwargs})

    class FakeSlackWebhookHook:
        def __init__(self, slack_webhook_conn_id: str, **kwargs: Any) -> None:
            self.conn_id = slack_webhook_conn_id

        def send(self, **kwargs: Any) -> Any:
            if box.webhook_broken:
                raise RuntimeError("webhook down")
            box.webhooks.append({"conn_id": self.conn_id, **kwargs})
            return SimpleNamespace(status_code=200, api_url="http://fake")

    monkeypatch.setattr("airflow.providers.smtp.notifications.smtp.SmtpHook", FakeSmtpHook)
    monkeypatch.setattr("airflow.providers.slack.notifications.slack_webhook.SlackWebhookHook",
                        FakeSlackWebhookHook)
    for key in list(os.environ):
        if key.startswith("MLOPS_ALERT_") or key == "AIRFLOW_VAR_MLOPS_ALERTS":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MLOPS_ALERT_STATE_CONN_ID", "")  # flood control off unless a test turns it on
    yield box


def task_context(*, dag_id: str = "etl_flights", task_id: str = "validate", run_id: str = "scheduled__1",
                 error: BaseException | None = None, logical_date: Any = None, with_dag: bool = True
                 ) -> dict[str, Any]:
    from airflow.sdk import DAG

    ti = SimpleNamespace(dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=2,
                         log_url=f"http://airflow/dags/{dag_id}/runs/{run_id}/tasks/{task_id}?try_number=2")
    context: dict[str, Any] = {
        "ti": ti, "run_id": run_id, "exception": error,
        "logical_date": pendulum.datetime(2013, 1, 2, tz="UTC") if logical_date is None else logical_date}
    if with_dag:  # a real DAG's Jinja environment (StrictUndefined): templates may only use what exists
        context["dag"] = DAG(dag_id, schedule=None)
    return context

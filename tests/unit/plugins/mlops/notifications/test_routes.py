"""Alert routes per environment: recipients and connections from config/environments/<env>.yaml, below the
Variable ``mlops_alerts`` and ``MLOPS_ALERT_*``; a broken environment never stops an alert."""

from __future__ import annotations

import json

import pytest

from mlops.notifications.drift import notify_drift
from mlops.notifications.failure import failure_notifier
from mlops.notifications.gate import notify_gate_rejection
from tests.unit.plugins.mlops.notifications.conftest import Outbox, task_context

PROD_RECIPIENTS = "ml-platform-oncall@example.com, ml-platform-alerts@example.com"


def routes(outbox: Outbox) -> list[tuple[str, str]]:
    return [(m["conn_id"], m["to"]) for m in outbox.mails] + [(w["conn_id"], "") for w in outbox.webhooks]


@pytest.mark.parametrize(("environment", "recipients", "webhook"), [
    ("dev", "ml-platform-alerts@example.com", "slack_alerts"),
    ("test", "ml-platform-alerts@example.com", "slack_alerts"),
    ("staging", "ml-platform-alerts@example.com", "slack_alerts_staging"),
    ("prod", PROD_RECIPIENTS, "slack_alerts_prod"),
])
def test_failure_alerts_follow_the_environments_routes(outbox: Outbox, monkeypatch: pytest.MonkeyPatch,
                                                       environment: str, recipients: str, webhook: str) -> None:
    notifier = failure_notifier()  # built at parse time: the routes are read when it sends
    monkeypatch.setenv("MLOPS_ENVIRONMENT", environment)
    notifier(task_context(error=RuntimeError("boom")))
    assert routes(outbox) == [("smtp_default", recipients), (webhook, "")]


def test_drift_and_gate_notifications_take_the_same_routes(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_ENVIRONMENT", "prod")
    context = task_context(dag_id="monitor_flights", task_id="alert")
    assert notify_drift(context, day="2013-07-15", usecase="flights", model="flights_delay_prod v3",
                        reasons=["prediction drift"], drifted_columns=[], drift_share=0.0, report_url="r",
                        trend_url="t", lakefs_url="l") == ["email via smtp_default", "webhook via slack_alerts_prod"]
    assert notify_gate_rejection(task_context(dag_id="train_flights", task_id="evaluation_gate"),
                                 verdict="reject", reasons=["roc_auc 0.5 < 0.6"], mlflow_run_url="u") \
        == ["email via smtp_default", "webhook via slack_alerts_prod"]
    assert [m["to"] for m in outbox.mails] == [PROD_RECIPIENTS] * 2


def test_the_variable_and_the_process_environment_still_override_the_routes(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_ENVIRONMENT", "prod")
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_ALERTS", json.dumps({"recipients": "incident@example.com"}))
    monkeypatch.setenv("MLOPS_ALERT_SMTP_CONN_ID", "")  # email off during an SMTP outage
    failure_notifier()(task_context(error=RuntimeError("boom")))
    assert outbox.mails == [] and [w["conn_id"] for w in outbox.webhooks] == ["slack_alerts_prod"]
    monkeypatch.delenv("MLOPS_ALERT_SMTP_CONN_ID")
    failure_notifier()(task_context(error=RuntimeError("boom")))
    assert [(m["conn_id"], m["to"]) for m in outbox.mails] == [("smtp_default", "incident@example.com")]


def test_an_unreadable_environment_still_alerts_with_the_defaults(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MLOPS_ENVIRONMENT", "production")
    failure_notifier()(task_context(error=RuntimeError("boom")))
    assert routes(outbox) == [("smtp_default", "ml-platform-alerts@example.com"), ("slack_alerts", "")]
    assert "environment routes unreadable" in caplog.text and "must be one of" in caplog.text

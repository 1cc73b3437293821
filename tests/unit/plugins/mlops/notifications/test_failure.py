"""Failure alerts through the real provider notifiers, with fake hooks and a fake flood-control store."""

from __future__ import annotations

import html
import json

import pytest

from include.common.alerting import FloodDecision
from mlops.notifications.failure import FailureAlertNotifier, failure_notifier
from tests.unit.plugins.mlops.notifications.conftest import Outbox, task_context

ERROR = ValueError("flights partition failed validation\n  - expect_values_between(distance) <b>3 rows</b>")


def test_alert_renders_subject_and_body_for_email_and_webhook(outbox: Outbox) -> None:
    failure_notifier()(task_context(error=ERROR))

    [mail], [hook] = outbox.mails, outbox.webhooks
    assert mail["subject"] == ("[Airflow] etl_flights.validate failed (2013-01-02T00:00:00+00:00): "
                               "flights partition failed validation")
    assert mail["to"] == "ml-platform-alerts@example.com" and mail["from_email"] == "airflow@localhost"
    assert mail["html_content"].startswith("<pre>") and "&lt;b&gt;3 rows&lt;/b&gt;" in mail["html_content"]
    body = html.unescape(mail["html_content"])
    for part in ("DAG: etl_flights", "Task: validate", "Run: scheduled__1", "Logical date: 2013-01-02",
                 "Log: http://airflow/dags/etl_flights/runs/scheduled__1/", str(ERROR)):
        assert part in body, body
    assert "suppressed" not in body
    assert hook["text"].startswith(f"*{mail['subject']}*\n```DAG: etl_flights") and str(ERROR) in hook["text"]
    assert (mail["conn_id"], hook["conn_id"]) == ("smtp_default", "slack_alerts")


def test_a_manual_run_without_dag_or_logical_date_still_renders(outbox: Outbox) -> None:
    context = task_context(error=None, with_dag=False)
    context["logical_date"] = None
    FailureAlertNotifier()(context)
    assert "failed (manual run): unknown error" in outbox.mails[0]["subject"]
    assert "Logical date: (manual run, none)" in outbox.mails[0]["html_content"]


def test_recipients_and_connections_come_from_configuration_at_notify_time(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    notifier = failure_notifier()  # built at parse time, before any configuration is read
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_ALERTS", json.dumps(
        {"recipients": ["oncall@example.com", "ml@example.com"], "smtp_conn_id": "smtp_ops"}))
    monkeypatch.setenv("MLOPS_ALERT_WEBHOOK_CONN_ID", "chat_ops")
    notifier(task_context(error=ERROR))
    assert outbox.mails[0]["to"] == "oncall@example.com, ml@example.com"
    assert (outbox.mails[0]["conn_id"], outbox.webhooks[0]["conn_id"]) == ("smtp_ops", "chat_ops")


def test_a_broken_mail_server_does_not_hide_the_webhook_or_raise(outbox: Outbox) -> None:
    outbox.smtp_broken = True
    delivered = FailureAlertNotifier().send(task_context(error=ERROR))
    assert delivered == ["webhook via slack_alerts"] and len(outbox.webhooks) == 1


def test_a_broken_webhook_does_not_hide_the_email(outbox: Outbox) -> None:
    outbox.webhook_broken = True
    assert FailureAlertNotifier().send(task_context(error=ERROR)) == ["email via smtp_default"]


def test_an_empty_connection_id_switches_the_channel_off(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_ALERT_SMTP_CONN_ID", "")
    FailureAlertNotifier()(task_context(error=ERROR))
    assert outbox.mails == [] and len(outbox.webhooks) == 1


def test_one_notifier_serves_many_tasks(outbox: Outbox) -> None:
    """Provider notifiers render in place; ours builds fresh ones per alert, so nothing leaks."""
    notifier = failure_notifier()
    notifier(task_context(task_id="extract", error=RuntimeError("first")))
    notifier(task_context(task_id="publish", error=RuntimeError("second")))
    assert [m["subject"].split(" failed")[0] for m in outbox.mails] == [
        "[Airflow] etl_flights.extract", "[Airflow] etl_flights.publish"]
    assert "second" in outbox.webhooks[1]["text"] and "first" not in outbox.webhooks[1]["text"]


def test_flood_control_suppresses_or_reports_the_suppressed_count(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    decisions = iter([FloodDecision(False, 0), FloodDecision(True, 4)])
    keys = []

    def fake_admit(key: str, settings: object) -> FloodDecision:
        keys.append(key)
        return next(decisions)

    monkeypatch.setattr("mlops.notifications.flood_control.admit", fake_admit)
    notifier = failure_notifier()
    assert notifier.send(task_context(error=ERROR)) == []
    assert outbox.mails == [] and outbox.webhooks == []
    notifier(task_context(error=ERROR))
    assert keys == ["failure:etl_flights", "failure:etl_flights"]
    assert "(4 earlier failure alerts of this DAG were suppressed by flood control" in outbox.mails[0]["html_content"]
    assert "4 earlier failure alerts" in outbox.webhooks[0]["text"]


def test_an_unreachable_state_database_fails_open(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_STATE_DOWN", json.dumps({
        "conn_type": "postgres", "host": "127.0.0.1", "port": port, "schema": "mlops", "login": "mlops",
        "password": "mlops", "extra": {"connect_timeout": 2}}))
    monkeypatch.setenv("MLOPS_ALERT_STATE_CONN_ID", "state_down")
    FailureAlertNotifier()(task_context(error=ERROR))
    assert len(outbox.mails) == 1 and len(outbox.webhooks) == 1
    assert "state database state_down unreachable; sending the alert anyway" in caplog.text


def test_bad_configuration_is_logged_and_the_alert_still_goes(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("MLOPS_ALERT_BURST", "lots")
    monkeypatch.setenv("AIRFLOW_VAR_MLOPS_ALERTS", "[1, 2]")
    FailureAlertNotifier()(task_context(error=ERROR))
    assert len(outbox.mails) == 1
    assert "MLOPS_ALERT_BURST='lots' ignored" in caplog.text and "mlops_alerts is not a JSON object" in caplog.text


def test_configuration_is_read_when_alerting_not_when_parsing(
        outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    monkeypatch.setattr("mlops.notifications.channels.read_variable", lambda: reads.append(1))
    notifier = failure_notifier()  # what a DAG file does at parse time
    assert reads == []
    notifier(task_context(error=ERROR))
    assert reads == [1] and len(outbox.mails) == 1

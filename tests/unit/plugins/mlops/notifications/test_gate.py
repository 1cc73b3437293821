"""Gate-rejection notifications: rendered with the task context, never flood-controlled, never raising."""

from __future__ import annotations

import html

import pytest

from mlops.notifications.gate import notify_gate_rejection
from tests.unit.plugins.mlops.notifications.conftest import Outbox, task_context

VERDICT = "flights_delay version 7: REJECT (4 checks, champion: version 5)"
REASONS = ["min roc_auc: 0.51 < 0.6", "roc_auc vs champion: 0.51 < 0.70 - 0.01"]


def test_rejection_names_verdict_reasons_and_runs(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_flood_control(*args: object) -> None:
        raise AssertionError("a rejection is not flood-controlled")

    monkeypatch.setattr("mlops.notifications.flood_control.admit", no_flood_control)
    context = task_context(dag_id="train_flights", task_id="evaluation_gate", run_id="manual__x")
    delivered = notify_gate_rejection(context, verdict=VERDICT, reasons=REASONS,
                                      mlflow_run_url="http://mlflow/#/experiments/1/runs/abc")
    assert delivered == ["email via smtp_default", "webhook via slack_alerts"]
    [mail] = outbox.mails
    assert mail["subject"] == "[Airflow] train_flights: challenger rejected by the evaluation gate"
    body = html.unescape(mail["html_content"])
    assert body == (
        f"<pre>{VERDICT}\nDAG: train_flights\nRun: manual__x\nMLflow run: http://mlflow/#/experiments/1/runs/abc\n"
        "Log: http://airflow/dags/train_flights/runs/manual__x/tasks/evaluation_gate?try_number=2\n\n"
        "Failed checks:\n- min roc_auc: 0.51 < 0.6\n- roc_auc vs champion: 0.51 < 0.70 - 0.01\n\n"
        "Aliases are unchanged; downstream promotion is skipped.</pre>")
    assert "- roc_auc vs champion" in outbox.webhooks[0]["text"]


def test_a_failing_channel_never_fails_the_gate_task(outbox: Outbox) -> None:
    outbox.smtp_broken = outbox.webhook_broken = True
    assert notify_gate_rejection(task_context(), verdict=VERDICT, reasons=REASONS, mlflow_run_url="u") == []
    assert notify_gate_rejection({}, verdict=VERDICT, reasons=REASONS, mlflow_run_url="u") == []  # no ti either

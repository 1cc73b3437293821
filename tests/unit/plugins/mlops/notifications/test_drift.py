"""Drift alerts: what drifted, by how much, the links; flood-controlled per DAG like failures."""

from __future__ import annotations

import html

import pytest

from include.common.alerting import FloodDecision
from mlops.notifications.drift import notify_drift
from tests.unit.plugins.mlops.notifications.conftest import Outbox, task_context

REASONS = ["data drift: 7 of 18 columns (share 0.39 >= 0.3): temp 3.1, dewp 2.7",
           "prediction drift: wasserstein 0.42 >= 0.1"]


def send(context: object) -> list[str]:
    return notify_drift(context, day="2013-07-15", usecase="flights", model="flights_delay v3",  # type: ignore[arg-type]
                        reasons=REASONS, drifted_columns=["temp", "dewp"], drift_share=0.39,
                        report_url="http://mlflow/#/experiments/2/runs/r/artifacts/reports/drift.html",
                        trend_url="http://mlflow/trend.png", lakefs_url="http://lakefs/objects?ref=c")


def test_drift_alert_names_the_findings_and_links(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    keys: list[str] = []

    def admit(key: str, settings: object) -> FloodDecision:
        keys.append(key)
        return FloodDecision(admitted=True, suppressed_before=2)

    monkeypatch.setattr("mlops.notifications.flood_control.admit", admit)
    context = task_context(dag_id="monitor_flights", task_id="alert", run_id="manual__d")
    assert send(context) == ["email via smtp_default", "webhook via slack_alerts"]
    assert keys == ["drift:monitor_flights"]
    [mail] = outbox.mails
    assert mail["subject"] == "[Airflow] monitor_flights: drift on 2013-07-15 (flights, flights_delay v3): 2 finding(s)"
    body = html.unescape(mail["html_content"])
    for text in (*REASONS, "Drift report: http://mlflow/#/experiments/2/runs/r/artifacts/reports/drift.html",
                 "Trend plot: http://mlflow/trend.png", "Reports on lakeFS: http://lakefs/objects?ref=c",
                 "2 earlier drift alerts of this DAG were suppressed"):
        assert text in body, text
    assert "temp 3.1" in outbox.webhooks[0]["text"]


def test_flood_control_holds_a_drift_alert_back(outbox: Outbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mlops.notifications.flood_control.admit",
                        lambda key, settings: FloodDecision(admitted=False, suppressed_before=0))
    assert send(task_context(dag_id="monitor_flights")) == []
    assert outbox.mails == [] and outbox.webhooks == []

"""Alert settings, failure facts and the flood-control decision (pure, no Airflow, no server)."""

import pytest

from include.common.alerting import (
    AlertSettings,
    FailureAlert,
    FloodState,
    flood_decision,
    resolve_alert_settings,
)


def test_failure_alert_names_dag_task_run_date_error_and_log() -> None:
    alert = FailureAlert(dag_id="etl_flights", task_id="validate", run_id="r1", logical_date="2013-01-01",
                         error="flights partition failed validation\n  - expect_x(distance)", log_url="http://l/1")
    assert alert.error_summary == "flights partition failed validation"
    variables = alert.template_vars()
    assert variables["dag_id"] == "etl_flights" and variables["log_url"] == "http://l/1"
    assert variables["error"].endswith("- expect_x(distance)") and variables["suppressed_before"] == 0


def test_error_summary_is_one_short_line_and_never_empty() -> None:
    assert FailureAlert("d", "t", "r", "", "x" * 500 + "\nsecond", "u").error_summary == "x" * 120
    assert FailureAlert("d", "t", "r", "", "  \n ", "u").error_summary == "unknown error"
    assert FailureAlert("d", "t", "r", "", "", "u").template_vars()["error"] == "unknown error"


def test_defaults_apply_without_configuration() -> None:
    settings, problems = resolve_alert_settings({}, None)
    assert settings == AlertSettings() and problems == []
    assert (settings.smtp_conn_id, settings.webhook_conn_id, settings.state_conn_id) == (
        "smtp_default", "slack_alerts", "mlops_state")
    assert (settings.burst, settings.window_seconds) == (3, 600.0)


def test_argument_beats_environment_beats_variable() -> None:
    env = {"MLOPS_ALERT_BURST": "1000", "MLOPS_ALERT_RECIPIENTS": "env@example.com"}
    variable = {"burst": 5, "window_seconds": 60, "recipients": ["a@example.com", "b@example.com"],
                "webhook_conn_id": "chat"}
    settings, problems = resolve_alert_settings(env, variable, recipients="arg@example.com")
    assert problems == []
    assert settings.burst == 1000  # the test stack's MLOPS_ALERT_BURST wins over the Variable
    assert settings.window_seconds == 60.0 and settings.webhook_conn_id == "chat"
    assert settings.recipients == "arg@example.com"
    assert resolve_alert_settings({}, variable)[0].recipients == "a@example.com, b@example.com"


def test_the_environments_routes_sit_below_the_variable_and_above_the_defaults() -> None:
    routes = {"recipients": "oncall@example.com", "from_email": None, "smtp_conn_id": "smtp_default",
              "webhook_conn_id": "slack_alerts_prod"}
    settings, problems = resolve_alert_settings({}, {"burst": 5}, routes)
    assert problems == [] and settings.burst == 5
    assert (settings.recipients, settings.webhook_conn_id, settings.from_email) == (
        "oncall@example.com", "slack_alerts_prod", None)
    settings, _ = resolve_alert_settings({"MLOPS_ALERT_WEBHOOK_CONN_ID": "chat"}, {"recipients": "var@example.com"},
                                         routes)
    assert (settings.recipients, settings.webhook_conn_id) == ("var@example.com", "chat")


def test_bad_values_are_reported_and_the_next_source_applies() -> None:
    settings, problems = resolve_alert_settings({"MLOPS_ALERT_BURST": "many", "MLOPS_ALERT_WINDOW_SECONDS": "-1"},
                                                {"burst": 0, "colour": "red"})
    assert (settings.burst, settings.window_seconds) == (3, 600.0)
    assert len(problems) == 4 and any("colour" in p for p in problems), problems
    assert any("MLOPS_ALERT_BURST='many'" in p for p in problems)


def test_an_empty_connection_id_switches_a_channel_off() -> None:
    settings, _ = resolve_alert_settings({"MLOPS_ALERT_WEBHOOK_CONN_ID": "", "MLOPS_ALERT_FROM_EMAIL": ""})
    assert settings.webhook_conn_id == "" and settings.from_email is None


def test_unknown_argument_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="bursts"):
        resolve_alert_settings({}, None, bursts=3)


def replay(times: list[float], *, burst: int, window: float) -> list[tuple[bool, int]]:
    state, outcomes = FloodState(), []
    for now in times:
        decision = flood_decision(state, now, burst=burst, window=window)
        state = decision.state
        outcomes.append((decision.admitted, decision.suppressed_before))
    return outcomes


def test_a_burst_goes_out_then_alerts_are_counted_and_reported_by_the_next_one() -> None:
    assert replay([0, 1, 2, 3, 700], burst=2, window=600) == [
        (True, 0), (True, 0), (False, 0), (False, 0), (True, 2)]


def test_the_window_slides_per_alert() -> None:
    # at 600 the alert of t=0 has left the window, the one of t=300 has not
    assert replay([0, 300, 599, 600, 601], burst=2, window=600) == [
        (True, 0), (True, 0), (False, 0), (True, 1), (False, 0)]


def test_the_stored_state_keeps_only_the_window_and_resets_the_count() -> None:
    decision = flood_decision(FloodState((0.0, 10.0, 500.0), suppressed=7), 650.0, burst=3, window=600)
    assert decision.admitted and decision.suppressed_before == 7
    assert decision.state == FloodState((500.0, 650.0), 0)
    held = flood_decision(decision.state, 651.0, burst=2, window=600)
    assert not held.admitted and held.state == FloodState((500.0, 650.0), 1)

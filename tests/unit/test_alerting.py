from pathlib import Path

from include.common.alerting import FailureAlert, FloodControl


def test_alert_names_dag_task_run_date_error_and_log() -> None:
    alert = FailureAlert(dag_id="etl_flights", task_id="validate", run_id="r1", logical_date="2013-01-01",
                         error="flights partition failed validation\n  - expect_x(distance)", log_url="http://l/1")
    assert alert.subject.startswith("[Airflow] etl_flights.validate failed (2013-01-01): flights partition")
    for part in ("DAG: etl_flights", "Task: validate", "Run: r1", "Log: http://l/1", "expect_x(distance)"):
        assert part in alert.text()


def test_flood_control_allows_a_burst_then_counts_the_suppressed(tmp_path: Path) -> None:
    control = FloodControl(tmp_path / "state.json", burst=2, window=600)
    assert control.admit("dag", now=0) == (True, 0)
    assert control.admit("dag", now=1) == (True, 0)
    assert control.admit("dag", now=2) == (False, 0)
    assert control.admit("dag", now=3) == (False, 0)
    assert control.admit("other", now=3) == (True, 0)  # per DAG
    assert control.admit("dag", now=700) == (True, 2)  # next alert reports the 2 suppressed ones
    text = FailureAlert("d", "t", "r", "x", "boom", "u", suppressed_before=2).text()
    assert "2 earlier failure alerts" in text

"""deploy_<name> and rollback_<name> DAG structure (no servers)."""

from __future__ import annotations

from include.common.usecase import load_usecase
from mlops.factories.serving import build_deploy_dag, build_rollback_dag


def test_deploy_dag_validates_and_stages_before_the_approval_and_production() -> None:
    dag = build_deploy_dag(load_usecase("flights"))
    assert [t.task_id for t in dag.topological_sort()] == [
        "resolve_candidate", "package", "infra_validation", "deploy_staging", "approve_production",
        "deploy_production"]
    assert dag.max_active_runs == 1 and not dag.catchup
    assert dag.get_task("infra_validation").retries == 1  # errors only: a failed check is AirflowFailException
    assert {dag.get_task(t).pool for t in ("deploy_staging", "deploy_production")} == {"serving_slots"}
    assert [a.name for a in dag.get_task("deploy_production").outlets] == ["production_flights"]
    assert dag.get_task("approve_production").response_timeout is not None
    assert {link.name for link in dag.get_task("deploy_production").operator_extra_links} == {
        "Endpoint docs", "MLflow model version"}
    assert {link.name for link in dag.get_task("infra_validation").operator_extra_links} == {
        "Infra validation report", "MLflow model version"}
    assert set(dag.params) == {"model_version"}


def test_deploy_dag_starts_on_the_challenger_asset() -> None:
    dag = build_deploy_dag(load_usecase("flights"))
    assert type(dag.timetable).__name__ == "AssetTriggeredTimetable"
    assert [asset.name for asset in dag.timetable.asset_condition.objects] == ["challenger_flights"]


def test_rollback_dag_is_manual_and_switches_production_once() -> None:
    dag = build_rollback_dag(load_usecase("flights"))
    assert type(dag.timetable).__name__ == "NullTimetable"  # manual runs only
    assert [t.task_id for t in dag.tasks] == ["rollback_production"]
    assert dag.get_task("rollback_production").pool == "serving_slots"
    assert set(dag.params) == {"to_version"}


def test_the_approval_body_lists_each_infra_validation_line() -> None:
    """Airflow's required-action screen renders the body as Markdown: one list item per summary line (a code
    block there ran the lines together)."""
    from jinja2.sandbox import SandboxedEnvironment

    from mlops.factories.serving import APPROVAL_BODY

    xcoms = {"resolve_candidate": {"model_name": "flights_delay", "model_version": "2", "champion_version": "1",
                                   "gate_verdict": "pass", "gate_reasons": [], "model_url": "http://mlflow/m"},
             "infra_validation": {"summary": "flights_delay:v2: infra validation passed; ready in 9.7 s\n"
                                             "parity: 200 rows, max |served - offline| 0\n- too slow",
                                  "report_url": "http://mlflow/r"},
             "deploy_staging": {"endpoint": "http://127.0.0.1:1/staging"}}

    class TaskInstance:
        def xcom_pull(self, task_ids: str) -> dict[str, object]:
            return xcoms[task_ids]

    body = SandboxedEnvironment().from_string(APPROVAL_BODY).render(ti=TaskInstance())
    lines = body.splitlines()
    for item in ("- flights_delay:v2: infra validation passed; ready in 9.7 s",
                 "- parity: 200 rows, max |served - offline| 0", "- too slow"):
        assert item in lines, body
    assert "replaces version 1" in body and "```" not in body

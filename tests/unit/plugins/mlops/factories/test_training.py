"""train_<name> DAG structure and its branch choice (no servers)."""

from __future__ import annotations

from include.common.usecase import load_usecase
from mlops.factories.training import build_training_dag, choose_branch


def test_dag_wires_pin_train_gate_with_guard_rails() -> None:
    dag = build_training_dag(load_usecase("flights"))
    assert [t.task_id for t in dag.topological_sort()] == [
        "pin_data", "train_or_evaluate", "train", "evaluate", "evaluation_gate"]
    assert dag.max_active_runs == 1 and dag.start_date is None and not dag.catchup
    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert dag.get_task("train").pool == "training"
    assert {link.name for link in dag.get_task("evaluation_gate").operator_extra_links} == {
        "MLflow run", "MLflow model version"}
    assert [a.name for a in dag.get_task("evaluation_gate").outlets] == ["challenger_flights"]
    assert set(dag.params) >= {"window_days", "model_family", "hyperparameters", "evaluate_only", "shuffle_labels"}


def test_evaluate_only_runs_take_the_evaluate_branch() -> None:
    assert choose_branch("True") == "evaluate" and choose_branch("true") == "evaluate"
    assert choose_branch("False") == "train" and choose_branch("") == "train"


def test_the_branch_task_follows_the_rendered_evaluate_only_param() -> None:
    branch = build_training_dag(load_usecase("flights")).get_task("train_or_evaluate")
    assert branch.template_fields == ("value",) and branch.value == "{{ params.evaluate_only }}"
    for rendered, expected in (("True", "evaluate"), ("False", "train")):
        branch.value = rendered
        assert branch.choose_branch({}) == expected

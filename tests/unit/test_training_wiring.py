"""train_<name> DAG structure, run parameters and asset-event guard rails (no servers)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from include.common.metrics import GateConfig
from include.common.usecase import load_usecase
from include.training.gate import GateDecision, HoldoutData, ModelScore, evaluate_gate
from include.training.service import PinnedData, TrainingInputError, run_settings_for
from include.training.tracking import LakeFSDatasetSource, flat_metrics
from mlops.factories.training import build_training_dag, choose_branch
from mlops.operators.base import from_backfill, triggering_events

PINNED = PinnedData.from_dict({"repository": "flights", "commit_id": "c", "reference": "main",
                               "window_start": "2013-02-01", "window_end": "2013-03-28", "days": 56})


def test_dag_wires_pin_train_gate_with_guard_rails() -> None:
    dag = build_training_dag(load_usecase("flights"))
    assert [t.task_id for t in dag.topological_sort()] == [
        "pin_data", "train_or_evaluate", "train", "evaluate", "evaluation_gate"]
    assert choose_branch("True") == "evaluate" and choose_branch("False") == "train"
    assert dag.max_active_runs == 1 and dag.start_date is None and not dag.catchup
    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert dag.get_task("train").pool == "training"
    assert {link.name for link in dag.get_task("evaluation_gate").operator_extra_links} == {
        "MLflow run", "MLflow model version"}
    assert [a.name for a in dag.get_task("evaluation_gate").outlets] == ["challenger_flights"]
    assert set(dag.params) >= {"window_days", "model_family", "hyperparameters", "evaluate_only", "shuffle_labels"}


def test_run_parameters_override_the_use_case_defaults() -> None:
    usecase = load_usecase("flights")
    default = run_settings_for(usecase, PINNED, seed=42)
    assert default.family == "hist_gradient_boosting" and default.hyperparameters["max_iter"] == 200
    forest = run_settings_for(usecase, PINNED, family="random_forest", hyperparameters={"max_depth": 8}, seed=7)
    assert forest.hyperparameters == {"n_estimators": 200, "min_samples_leaf": 5, "max_depth": 8}
    assert forest.seed == 7 and str(forest.window_end) == "2013-03-28"
    with pytest.raises(TrainingInputError, match="do not fit model family 'linear'"):
        run_settings_for(usecase, PINNED, family="linear", hyperparameters={"max_iter": "many"})


def event(run_id: str, timestamp: int, **extra: str) -> SimpleNamespace:
    return SimpleNamespace(source_run_id=run_id, timestamp=timestamp, extra=extra)


def test_events_from_backfills_are_recognised() -> None:
    manual = event("manual__2026", 2, run_type="manual", commit_id="b")
    backfilled = event("backfill__2013-01-01", 1, commit_id="a")
    assert from_backfill(backfilled) and from_backfill(event("x", 3, run_type="backfill"))
    assert not from_backfill(manual)
    assert triggering_events({"triggering_asset_events": {"asset": [manual, backfilled]}}) == [backfilled, manual]
    assert triggering_events({}) == []


def test_metric_keys_and_lakefs_dataset_source() -> None:
    flat = flat_metrics("holdout", {"mae": 1.0}, {"market_segment": {"Offline TA/TO": {"mae": 2.0}, "a(b)": {}}})
    assert flat == {"holdout.mae": 1.0, "holdout.slice.market_segment.Offline TA/TO.mae": 2.0}
    source = LakeFSDatasetSource("flights", "c0ffee", "curated/flights/", "http://127.0.0.1:8000")
    assert LakeFSDatasetSource.from_json(source.to_json()).uri == "lakefs://flights/c0ffee/curated/flights/"
    assert LakeFSDatasetSource._can_resolve(source.uri)
    assert LakeFSDatasetSource._resolve(source.uri).commit_id == "c0ffee"


def test_decision_document_is_json_with_verdict_reasons_and_both_models() -> None:
    config = GateConfig(primary_metric="roc_auc", minimums={"roc_auc": 0.6})
    data = HoldoutData("flights", "c", "2013-03-22", "2013-03-28", 100)
    decision = evaluate_gate(ModelScore("2", {"roc_auc": 0.55}, {}), ModelScore("1", {"roc_auc": 0.7}, {}), config,
                             data)
    document = json.loads(json.dumps(decision.to_dict()))
    assert document["verdict"] == "reject"
    assert [r.split(":")[0] for r in document["reasons"]] == ["min roc_auc", "roc_auc vs champion"]
    assert document["thresholds"]["minimums"] == {"roc_auc": 0.6} and document["champion"]["model_version"] == "1"
    assert GateDecision.from_dict(document) == decision

"""The evaluation gate: value thresholds, change versus the champion, slices, and its decision document."""

import json

from include.common.metrics import GateConfig
from include.training.gate import GateDecision, HoldoutData, ModelScore, evaluate_gate

CONFIG = GateConfig(primary_metric="roc_auc", minimums={"roc_auc": 0.65}, maximums={"brier": 0.2},
                    tolerance=0.01, slice_tolerance=0.05, min_slice_rows=100)
DATA = HoldoutData("flights", "c0ffee", "2013-01-22", "2013-01-28", 1000)


def gate(challenger: dict[str, float], champion: dict[str, float] | None = None, config: GateConfig = CONFIG,
         ours: dict[str, dict[str, dict[str, float]]] | None = None,
         theirs: dict[str, dict[str, dict[str, float]]] | None = None):  # type: ignore[no-untyped-def]
    champion_score = ModelScore("1", champion, theirs or {}) if champion is not None else None
    return evaluate_gate(ModelScore("2", challenger, ours or {}), champion_score, config, DATA)


def test_without_a_champion_value_thresholds_alone_decide() -> None:
    assert gate({"roc_auc": 0.7, "brier": 0.15}).passed
    decision = gate({"roc_auc": 0.6, "brier": 0.15})
    assert not decision.passed and decision.reasons == ["min roc_auc: 0.6000 (needs >= 0.65)"]


def test_challenger_may_not_be_worse_than_the_champion_beyond_tolerance() -> None:
    champion = {"roc_auc": 0.75, "brier": 0.15}
    assert gate({"roc_auc": 0.745, "brier": 0.15}, champion).passed
    decision = gate({"roc_auc": 0.70, "brier": 0.15}, champion)
    assert not decision.passed and decision.reasons[0].startswith("roc_auc vs champion")


def test_min_improvement_and_lower_is_better_metrics() -> None:
    config = GateConfig(primary_metric="mae", min_improvement=1.0)
    assert gate({"mae": 10.0}, {"mae": 11.5}, config).passed
    assert not gate({"mae": 10.9}, {"mae": 11.5}, config).passed


def test_a_regressing_slice_fails_and_small_slices_are_only_reported() -> None:
    ours = {"origin": {"EWR": {"roc_auc": 0.60, "rows": 500.0}, "LGA": {"roc_auc": 0.5, "rows": 50.0}}}
    theirs = {"origin": {"EWR": {"roc_auc": 0.70, "rows": 500.0}, "LGA": {"roc_auc": 0.9, "rows": 50.0}}}
    decision = gate({"roc_auc": 0.75, "brier": 0.1}, {"roc_auc": 0.75, "brier": 0.1}, ours=ours, theirs=theirs)
    assert not decision.passed
    assert [r.split(":")[0] for r in decision.reasons] == ["slice origin=EWR"]
    assert any(c.passed is None and "not judged" in c.detail for c in decision.checks)


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
    assert decision.summary().splitlines()[0] == "version 2: REJECT (2 checks, champion: version 1)"

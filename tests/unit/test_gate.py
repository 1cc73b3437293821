from include.training.gate import GateConfig, evaluate_gate

CONFIG = GateConfig(primary_metric="roc_auc", minimums={"roc_auc": 0.65}, maximums={"brier": 0.2},
                    tolerance=0.01, slice_tolerance=0.05, min_slice_rows=100)


def test_without_a_champion_value_thresholds_alone_decide() -> None:
    assert evaluate_gate({"roc_auc": 0.7, "brier": 0.15}, {}, CONFIG).passed
    decision = evaluate_gate({"roc_auc": 0.6, "brier": 0.15}, {}, CONFIG)
    assert not decision.passed and decision.reasons == ["min roc_auc: 0.6000 (needs >= 0.65)"]


def test_challenger_may_not_be_worse_than_the_champion_beyond_tolerance() -> None:
    champion = {"roc_auc": 0.75, "brier": 0.15}
    assert evaluate_gate({"roc_auc": 0.745, "brier": 0.15}, {}, CONFIG, champion, {}).passed
    decision = evaluate_gate({"roc_auc": 0.70, "brier": 0.15}, {}, CONFIG, champion, {})
    assert not decision.passed and decision.reasons[0].startswith("roc_auc vs champion")


def test_min_improvement_and_lower_is_better_metrics() -> None:
    config = GateConfig(primary_metric="mae", min_improvement=1.0)
    assert evaluate_gate({"mae": 10.0}, {}, config, {"mae": 11.5}, {}).passed
    assert not evaluate_gate({"mae": 10.9}, {}, config, {"mae": 11.5}, {}).passed


def test_a_regressing_slice_fails_and_small_slices_are_only_reported() -> None:
    ours = {"origin": {"EWR": {"roc_auc": 0.60, "rows": 500.0}, "LGA": {"roc_auc": 0.5, "rows": 50.0}}}
    theirs = {"origin": {"EWR": {"roc_auc": 0.70, "rows": 500.0}, "LGA": {"roc_auc": 0.9, "rows": 50.0}}}
    decision = evaluate_gate({"roc_auc": 0.75, "brier": 0.1}, ours, CONFIG, {"roc_auc": 0.75, "brier": 0.1}, theirs)
    assert not decision.passed
    assert [r.split(":")[0] for r in decision.reasons] == ["slice origin=EWR"]
    assert any(c.passed is None and "not judged" in c.detail for c in decision.checks)

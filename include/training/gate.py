"""The evaluation gate: value thresholds, change versus the champion, per-slice regressions.

A decision lists every check with its numbers, so a rejected challenger explains itself.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Metrics = dict[str, float]
SliceMetrics = dict[str, dict[str, Metrics]]
LOWER_IS_BETTER = {"log_loss", "brier", "mae", "rmse"}


@dataclass(frozen=True)
class GateConfig:
    primary_metric: str
    minimums: dict[str, float] = field(default_factory=dict)  # metric >= value
    maximums: dict[str, float] = field(default_factory=dict)  # metric <= value
    tolerance: float = 0.01  # primary may be worse than the champion by at most this much
    min_improvement: float = 0.0  # and must beat it by at least this much
    slice_tolerance: float = 0.05  # a slice's primary metric may drop by at most this much
    min_slice_rows: int = 200  # smaller slices are reported, not judged


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: reported only
    detail: str


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    checks: list[Check]

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.passed is False]


def better_by(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive) on ``metric``, whatever its direction."""
    return champion - challenger if metric in LOWER_IS_BETTER else challenger - champion


def value_checks(metrics: Metrics, config: GateConfig) -> list[Check]:
    checks = []
    for metric, minimum in config.minimums.items():
        value = metrics.get(metric, float("nan"))
        checks.append(Check(f"min {metric}", value >= minimum, f"{value:.4f} (needs >= {minimum})"))
    for metric, maximum in config.maximums.items():
        value = metrics.get(metric, float("nan"))
        checks.append(Check(f"max {metric}", value <= maximum, f"{value:.4f} (needs <= {maximum})"))
    return checks


def champion_checks(challenger: Metrics, champion: Metrics, config: GateConfig) -> list[Check]:
    metric = config.primary_metric
    gain = better_by(metric, challenger[metric], champion[metric])
    needed = config.min_improvement if config.min_improvement > 0 else -config.tolerance
    return [Check(f"{metric} vs champion", gain >= needed,
                  f"challenger {challenger[metric]:.4f}, champion {champion[metric]:.4f}, "
                  f"change {gain:+.4f} (needs >= {needed:+.4f})")]


def slice_checks(challenger: SliceMetrics, champion: SliceMetrics, config: GateConfig) -> list[Check]:
    metric = config.primary_metric
    checks = []
    for column, values in challenger.items():
        for value, ours in values.items():
            theirs = champion.get(column, {}).get(value)
            name = f"slice {column}={value}"
            if theirs is None or metric not in ours or metric not in theirs:
                continue
            change = better_by(metric, ours[metric], theirs[metric])
            detail = (f"{metric} {ours[metric]:.4f} vs champion {theirs[metric]:.4f} "
                      f"({change:+.4f}, {int(ours['rows'])} rows)")
            if ours["rows"] < config.min_slice_rows:
                checks.append(Check(name, None, detail + f"; below {config.min_slice_rows} rows, not judged"))
            else:
                checks.append(Check(name, change >= -config.slice_tolerance, detail))
    return checks


def evaluate_gate(challenger: Metrics, challenger_slices: SliceMetrics, config: GateConfig,
                  champion: Metrics | None = None, champion_slices: SliceMetrics | None = None) -> GateDecision:
    """Value thresholds always; with a champion, also the primary metric and every judged slice."""
    checks = value_checks(challenger, config)
    if champion is not None:
        checks += champion_checks(challenger, champion, config)
        checks += slice_checks(challenger_slices, champion_slices or {}, config)
    return GateDecision(all(c.passed is not False for c in checks), checks)



def decision_document(decision: GateDecision, config: GateConfig, challenger: dict[str, Any],
                      champion: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """The decision as a JSON-ready record: verdict, reasons, every check, both models, thresholds."""
    return {
        "verdict": "pass" if decision.passed else "reject",
        "reasons": decision.reasons,
        "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in decision.checks],
        "thresholds": asdict(config),
        "challenger": challenger,
        "champion": champion,
        "data": data,
    }

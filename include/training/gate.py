"""The evaluation gate: value thresholds, change versus the champion, per-slice regressions.

A decision lists every check with its numbers, so a rejected challenger explains itself. It is
one typed object (``GateDecision``), serialised once as the JSON logged on the MLflow run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from include.common.metrics import METRIC_DIRECTIONS, Direction, GateConfig, Metrics, SliceMetrics


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: reported only
    detail: str


@dataclass(frozen=True)
class ModelScore:
    """One model version's metrics on the gate's holdout."""

    model_version: str
    metrics: Metrics
    slices: SliceMetrics
    run_id: str | None = None


@dataclass(frozen=True)
class HoldoutData:
    """The rows both models were scored on: lakeFS repository, commit and held-out days."""

    repository: str
    commit_id: str
    first_day: str
    last_day: str
    rows: int


@dataclass(frozen=True)
class GateDecision:
    checks: list[Check]
    config: GateConfig
    challenger: ModelScore
    champion: ModelScore | None
    data: HoldoutData

    @property
    def passed(self) -> bool:
        return all(check.passed is not False for check in self.checks)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "reject"

    @property
    def reasons(self) -> list[str]:
        return [f"{c.name}: {c.detail}" for c in self.checks if c.passed is False]

    def to_dict(self) -> dict[str, Any]:
        """The JSON document logged on the MLflow run (verdict and reasons first)."""
        return {"verdict": self.verdict, "reasons": self.reasons, "checks": [asdict(c) for c in self.checks],
                "thresholds": self.config.model_dump(), "challenger": asdict(self.challenger),
                "champion": asdict(self.champion) if self.champion else None, "data": asdict(self.data)}

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> GateDecision:
        champion = document["champion"]
        return cls(checks=[Check(**check) for check in document["checks"]],
                   config=GateConfig(**document["thresholds"]), challenger=ModelScore(**document["challenger"]),
                   champion=ModelScore(**champion) if champion else None, data=HoldoutData(**document["data"]))

    def summary(self) -> str:
        """The verdict line and one line per check, as the task log and the notification show them."""
        champion = (f"version {self.champion.model_version}" if self.champion
                    else "none yet, value thresholds alone decide")
        lines = [f"version {self.challenger.model_version}: {self.verdict.upper()} ({len(self.checks)} checks, "
                 f"champion: {champion})"]
        marks = {True: "PASS", False: "FAIL", None: "info"}
        lines += [f"  [{marks[c.passed]}] {c.name}: {c.detail}" for c in self.checks]
        return "\n".join(lines)


def better_by(metric: str, challenger: float, champion: float) -> float:
    """How much better the challenger is (positive) on ``metric``, whatever its direction."""
    change = challenger - champion
    return -change if METRIC_DIRECTIONS[metric] is Direction.LOWER else change


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


def evaluate_gate(challenger: ModelScore, champion: ModelScore | None, config: GateConfig,
                  data: HoldoutData) -> GateDecision:
    """Value thresholds always; with a champion, also the primary metric and every judged slice."""
    checks = value_checks(challenger.metrics, config)
    if champion is not None:
        checks += champion_checks(challenger.metrics, champion.metrics, config)
        checks += slice_checks(challenger.slices, champion.slices, config)
    return GateDecision(checks=checks, config=config, challenger=challenger, champion=champion, data=data)

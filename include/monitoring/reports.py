"""Files of a monitored day: Evidently reports (HTML + JSON), the summary, the trend plot.

Evidently's ``save_html``/``save_json`` write only when given a ``str`` (a ``Path`` is silently
ignored: GUIDE trap 13), so paths are converted here and each file is checked after writing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evidently.core.report import Snapshot

DRIFT = "drift"
PERFORMANCE = "performance"
SUMMARY = "summary.json"
TREND = "trend.png"


def save_snapshot(snapshot: Snapshot, folder: Path, name: str) -> list[Path]:
    """``<name>.html`` and ``<name>.json`` in ``folder``; raises if Evidently wrote nothing."""
    html, data = folder / f"{name}.html", folder / f"{name}.json"
    snapshot.save_html(str(html))
    snapshot.save_json(str(data))
    missing = [p.name for p in (html, data) if not p.exists() or p.stat().st_size == 0]
    if missing:
        raise RuntimeError(f"Evidently wrote no {missing} in {folder}")
    return [html, data]


def save_summary(summary: dict[str, Any], folder: Path) -> Path:
    path = folder / SUMMARY
    path.write_text(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return path


def trend_plot(points: list[dict[str, Any]], path: Path, *, title: str, drift_share_threshold: float,
               prediction_threshold: float, performance_metric: str | None) -> Path:
    """A PNG of the summary figures of the last days: drift share, prediction drift, performance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [p["day"] for p in points]
    panels: list[tuple[str, str, float | None]] = [
        ("drift.share", "share of drifted columns", drift_share_threshold),
        ("prediction.drift_score", "prediction drift (Wasserstein, normed)", prediction_threshold)]
    if performance_metric:
        panels.append((f"performance.{performance_metric}", f"{performance_metric} (labelled rows)", None))
    figure, axes = plt.subplots(len(panels), 1, figsize=(9, 2.4 * len(panels)), sharex=True, squeeze=False)
    for axis, (key, label, threshold) in zip(axes[:, 0], panels, strict=True):
        values = [p.get(key, float("nan")) for p in points]
        axis.plot(days, values, marker="o", markersize=3, linewidth=1)
        drifted = [(d, v) for d, v, p in zip(days, values, points, strict=True) if p.get("verdict") == "drift"]
        if drifted:
            axis.scatter(*zip(*drifted, strict=True), color="tab:red", zorder=3, s=18, label="drift")
            axis.legend(loc="upper left", fontsize=7)
        if threshold is not None:
            axis.axhline(threshold, color="tab:red", linestyle="--", linewidth=0.8)
        champion = [p.get(f"champion.{performance_metric}") for p in points] if key.startswith("performance") \
            else []
        if champion and champion[-1] is not None:
            axis.axhline(float(champion[-1]), color="tab:green", linestyle=":", linewidth=0.8)
        axis.set_ylabel(label, fontsize=8)
        axis.grid(alpha=0.3)
    axes[0, 0].set_title(title, fontsize=10)
    if len(set(days)) == 1:  # one day: a few days around it, not matplotlib's default span of years
        from datetime import timedelta

        axes[0, 0].set_xlim(days[0] - timedelta(days=3), days[0] + timedelta(days=3))
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path

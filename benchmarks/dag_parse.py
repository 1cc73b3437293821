"""Benchmark: each DAG file's parse cost beyond ``import airflow.sdk``, in fresh interpreters.

Every run is a new Python process with the dag-processor's view of the project (repository root
and ``plugins/`` on the path, this repository's dags and plugins folders, no metadata-DB URL): it
times ``import airflow.sdk``, then loading the DAG file. The figure is the median over the runs of
the second time (wall clock; CPU time beside it), i.e. the file's import time minus
``airflow.sdk``'s in the same interpreter. One warm-up run per file is discarded; Python's bytecode
cache is on (as in a default deployment), whatever ``PYTHONDONTWRITEBYTECODE`` says here.

Baseline: a bare DAG file with what every stage's DAG has and no project code (a cron data-interval
timetable, one task with a URI Asset outlet): Airflow's own lazy imports, paid once per process.

Also measured, for information: the same in the dag-processor's conditions. Its parse processes are
forked from the manager, which has imported ``airflow.dag_processing.manager`` (the ORM models
among it) and frozen the garbage collector; the probe does both before loading the file.

    .venv/bin/python benchmarks/dag_parse.py [--runs 5] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_FOLDER = REPO_ROOT / "dags"
AIRFLOW_HOME = REPO_ROOT / ".stack" / "bench-airflow-home"
TARGET_SECONDS = 0.1
BARE_DAG = """
from datetime import datetime

from airflow.sdk import DAG, Asset, BaseOperator, CronDataIntervalTimetable


class Noop(BaseOperator):
    def execute(self, context):
        return None


with DAG(dag_id="bare", schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
         start_date=datetime(2024, 1, 1), tags=["bare"]):
    Noop(task_id="noop", outlets=[Asset(name="bare", uri="lakefs://bare/main/data")])
"""

PROBE = """
import gc, importlib.util, json, sys, time
start = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter() - start
if sys.argv[2] == "dag-processor":
    import airflow.dag_processing.manager
    gc.freeze()
before = {name.partition(".")[0] for name in sys.modules}
spec = importlib.util.spec_from_file_location("unusual_prefix_dag_parse_probe", sys.argv[1])
module = importlib.util.module_from_spec(spec)
start, cpu = time.perf_counter(), time.process_time()
spec.loader.exec_module(module)
dag_file, dag_cpu = time.perf_counter() - start, time.process_time() - cpu
new = sorted({name.partition(".")[0] for name in sys.modules} - before)
print(json.dumps({"sdk": sdk, "dag_file": dag_file, "dag_cpu": dag_cpu, "new_packages": new}))
"""


def probe_env() -> dict[str, str]:
    """The environment of a dag-processor for this repository (as ``tests/conftest.py`` sets it)."""
    dropped = ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    env.update({
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "plugins")]),
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "OMP_NUM_THREADS": "1",
        "GX_ANALYTICS_ENABLED": "False", "MLFLOW_DISABLE_TELEMETRY": "true", "BENTOML_DO_NOT_TRACK": "True",
        "DO_NOT_TRACK": "1", "SCARF_ANALYTICS": "false",
    })
    return env


def probe(dag_file: Path, env: dict[str, str], mode: str = "sdk") -> dict[str, Any]:
    """One fresh interpreter: seconds for ``import airflow.sdk``, then for the DAG file (``mode``: ``sdk`` or
    ``dag-processor``, see the module's docstring)."""
    result = subprocess.run([sys.executable, "-c", PROBE, str(dag_file), mode], capture_output=True, text=True,
                            env=env, cwd=REPO_ROOT, check=False, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"{dag_file.name} failed to load:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def measure_file(dag_file: Path, runs: int, env: dict[str, str], name: str) -> dict[str, Any]:
    """Median seconds over ``runs`` fresh interpreters (after one discarded warm-up)."""
    probe(dag_file, env)
    samples = [probe(dag_file, env) for _ in range(runs)]
    in_processor = [probe(dag_file, env, "dag-processor") for _ in range(runs)]
    return {"file": name,
            "dag_processor_seconds": statistics.median(s["dag_file"] for s in in_processor),
            "seconds": statistics.median(s["dag_file"] for s in samples),
            "cpu_seconds": statistics.median(s["dag_cpu"] for s in samples),
            "sdk_seconds": statistics.median(s["sdk"] for s in samples),
            "samples": [round(s["dag_file"], 4) for s in samples],
            "new_packages": samples[-1]["new_packages"]}


def measure(runs: int = 5) -> dict[str, Any]:
    """Every DAG file's parse cost; ``load_average`` at start and end."""
    env = probe_env()
    start_load = os.getloadavg()
    bare = AIRFLOW_HOME / "bare_dag.py"
    bare.write_text(BARE_DAG)
    baseline = measure_file(bare, runs, env, "bare DAG (baseline)")
    files = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
    results = [measure_file(path, runs, env, str(path.relative_to(REPO_ROOT))) for path in files]
    return {"runs": runs, "target_seconds": TARGET_SECONDS, "baseline": baseline, "files": results,
            "load_average": {"start": start_load, "end": os.getloadavg()}}


def print_report(report: dict[str, Any]) -> None:
    print(f"DAG parse cost beyond `import airflow.sdk` (median of {report['runs']} fresh interpreters; "
          f"target <= {report['target_seconds']} s)")
    for item in [report["baseline"], *report["files"]]:
        verdict = "ok" if item["seconds"] <= report["target_seconds"] else "OVER"
        print(f"  {item['file']:<22} {item['seconds']:6.3f} s  {verdict:<4} CPU {item['cpu_seconds']:.3f} s; "
              f"in the dag-processor's conditions {item['dag_processor_seconds']:.3f} s; "
              f"airflow.sdk itself {item['sdk_seconds']:.2f} s")
        print(f"  {'':<22} runs {', '.join(f'{s:.3f}' for s in item['samples'])}; "
              f"packages first imported: {', '.join(item['new_packages']) or '-'}")
    load = report["load_average"]
    print(f"  load average: start {load['start'][0]:.2f}, end {load['end'][0]:.2f} ({os.cpu_count()} cores)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures to PATH as JSON")
    args = parser.parse_args()
    report = measure(args.runs)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: a served Bento versus the same pipeline behind a bare Starlette + uvicorn app, in one run.

Both servers run from the Bento's own serving environment with one worker and one OpenMP thread; the
load comes from this process (threads, one connection each): single-record and batched requests at
concurrency 1, 8 and 32, a fixed number of requests per case. Prints req/s, records/s, p50 and p99
and writes ``benchmarks/results/serving-<date>.json``.

    make bench-serving                                   # the flights champion's Bento of the dev stack
    STACK_NAME=test .venv/bin/python benchmarks/serving.py --bento flights_delay:v1
    .venv/bin/python benchmarks/serving.py --requests 100 --json figures.json   # fewer requests; figures also to PATH
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT), str(REPO_ROOT / "plugins")]

from include.common.metadata import Alias, Artifact, TagKey  # noqa: E402
from include.common.usecase import LoadTestConfig  # noqa: E402
from include.serving.deployment import free_port  # noqa: E402
from include.serving.packaging import bento_environment, bento_model_dir  # noqa: E402
from include.serving.server import running_bento, serving_env, stop_group, wait_ready  # noqa: E402
from include.serving.slots import SlotLayout  # noqa: E402
from include.serving.validation import load_test  # noqa: E402
from scripts.stack import StackConfig, client_connections  # noqa: E402

CONCURRENCY = (1, 8, 32)
BATCH = 16  # records per batched request
REQUESTS = 300  # per case


def bento_and_sample(cfg: StackConfig, model: str, tag: str | None) -> tuple[str, Any]:
    """The Bento (default: the champion's, which production serves) and its training run's holdout sample."""
    import pandas as pd

    from mlops.hooks.mlflow import MlflowHook

    os.environ.update(client_connections(cfg))
    client = MlflowHook().get_conn()
    version = client.get_model_version(model, tag.split(":v")[1]) if tag else \
        client.get_model_version_by_alias(model, Alias.CHAMPION)
    sample = pd.read_parquet(client.download_artifacts(str(version.run_id), Artifact.HOLDOUT_SAMPLE))
    return tag or str(version.tags[TagKey.BENTO]), sample


def cases(url: str, sample: Any, requests: int = REQUESTS) -> list[dict[str, float]]:
    results = []
    for records in (1, BATCH):
        for concurrency in CONCURRENCY:
            config = LoadTestConfig(requests=requests, concurrency=concurrency, records_per_request=records)
            load_test(url, sample, config)  # warm-up
            figures = load_test(url, sample, config)
            figures["records_per_second"] = figures["requests_per_second"] * records
            results.append(figures)
            print(f"    {records:2d} record(s) x {concurrency:2d} clients: {figures['requests_per_second']:7.1f} req/s "
                  f"{figures['records_per_second']:8.1f} rec/s  p50 {figures['p50_ms']:6.1f} ms  "
                  f"p99 {figures['p99_ms']:7.1f} ms  errors {figures['errors']:.0f}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--usecase", default="flights")
    parser.add_argument("--bento", help="name:version (default: the champion's Bento)")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="requests per case")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the report to PATH")
    args = parser.parse_args()
    cfg = StackConfig.from_env()
    layout = SlotLayout.load(cfg.home / "serving")
    from include.common.usecase import load_usecase

    model = load_usecase(args.usecase).require_training().registered_model
    tag, sample = bento_and_sample(cfg, model, args.bento)
    environment = bento_environment(layout.bentoml_home, tag)
    log_dir = layout.home / "validation"
    log_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"date": date.today().isoformat(), "bento": tag, "machine": machine(),
                              "requests_per_case": args.requests, "batch_records": BATCH}
    print(f"Bento {tag} (BentoML, adaptive batching) vs bare Starlette + uvicorn, same pipeline and environment")
    with running_bento(environment, layout.bentoml_home, tag, free_port(), 300, log_dir / "bench.log") as bento:
        print("  BentoML:")
        report["bentoml"] = cases(bento.url, sample, args.requests)
    port = free_port()
    bare = subprocess.Popen([str(environment / "bin" / "python"), str(REPO_ROOT / "benchmarks" / "bare_serving_app.py"),
                             str(bento_model_dir(layout.bentoml_home, tag)), str(port)],
                            env=serving_env(layout.bentoml_home), start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", 120, bare)
        print("  bare:")
        report["bare"] = cases(f"http://127.0.0.1:{port}", sample, args.requests)
    finally:
        stop_group(bare)
    ratios = [f"{b['records_per_request']:.0f}x{b['concurrency']:.0f}: "
              f"{b['requests_per_second'] / r['requests_per_second']:.2f}"
              for b, r in zip(report["bentoml"], report["bare"], strict=True)]
    print("  BentoML / bare (req/s), records x clients: " + ", ".join(ratios))
    out = REPO_ROOT / "benchmarks" / "results" / f"serving-{report['date']}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"  written to {out.relative_to(REPO_ROOT)}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average": os.getloadavg(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}


if __name__ == "__main__":
    sys.exit(main())

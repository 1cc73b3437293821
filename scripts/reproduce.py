"""``make reproduce RUN_ID=...``: retrain a recorded MLflow run and check that its metrics come back exactly.

Reads the run's ``run_settings.json`` and lakeFS commit from MLflow, loads the same partitions at
that commit, trains with the same settings and seed, and compares every recorded train and holdout
metric. Exit status 0 only when all of them are identical. Uses the stack named by ``STACK_NAME``
(default ``dev``); a different code version is reported, since it may explain a difference.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "plugins"))

from scripts.stack import StackConfig, client_connections


def compare(recorded: dict[str, float], reproduced: dict[str, float]) -> list[str]:
    """Lines of a comparison table; a line starting with ``DIFF`` marks a metric that changed."""
    lines = []
    for key in sorted(recorded):
        ours = reproduced.get(key, math.nan)
        same = ours == recorded[key] or (math.isnan(ours) and math.isnan(recorded[key]))
        lines.append(f"{'same' if same else 'DIFF'}  {key:<50} recorded {recorded[key]!r:<22} reproduced {ours!r}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_id", help="MLflow run id of a training run (see the 'train' task's MLflow link)")
    run_id = parser.parse_args().run_id
    cfg = StackConfig.from_env()
    for key, value in client_connections(cfg).items():
        os.environ.setdefault(key, value)

    from include.common.lineage import code_version
    from include.common.metadata import RunKind, TagKey
    from include.common.usecase import load_usecase
    from include.training.service import read_window
    from include.training.tracking import flat_metrics, run_settings
    from include.training.trainer import train
    from mlops.hooks.lakefs import LakeFSHook
    from mlops.hooks.mlflow import MlflowHook

    client = MlflowHook().get_conn()
    run = client.get_run(run_id)
    tags = run.data.tags
    if tags.get(TagKey.KIND) != RunKind.TRAINING:
        print(f"run {run_id} is not a training run ({TagKey.KIND}={tags.get(TagKey.KIND)!r})", file=sys.stderr)
        return 2
    settings = run_settings(client, run_id)
    usecase = load_usecase(settings.usecase)
    commit_id = tags[TagKey.LAKEFS_COMMIT]
    repository = LakeFSHook(repository=tags[TagKey.LAKEFS_REPOSITORY]).repository()
    print(f"Reproducing run {run_id} ({usecase.name}, {settings.family}, seed {settings.seed})")
    print(f"  data: lakeFS {repository.id}@{commit_id}, {settings.window_start} to {settings.window_end}")
    current = code_version()
    if current != tags.get(TagKey.CODE_VERSION):
        print(f"  note: recorded code version {tags.get(TagKey.CODE_VERSION)}, current {current}")
    trained = train(read_window(repository, usecase, commit_id, settings), usecase, settings)
    evaluation = trained.evaluation
    reproduced = {**flat_metrics("holdout", evaluation.metrics, evaluation.slices),
                  **flat_metrics("train", trained.train_metrics)}
    recorded = {key: value for key, value in run.data.metrics.items() if key.startswith(("holdout.", "train."))}
    lines = compare(recorded, reproduced)
    differences = [line for line in lines if line.startswith("DIFF")]
    print("\n".join(differences or lines[:12] + ([f"... and {len(lines) - 12} more"] if len(lines) > 12 else [])))
    if differences or not recorded:
        print(f"NOT REPRODUCED: {len(differences)} of {len(recorded)} metrics differ")
        return 1
    print(f"REPRODUCED: all {len(recorded)} recorded metrics are identical")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Every DAG file loads with Airflow 3.3's DagBag and follows the project's conventions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = ("pandas", "sklearn", "mlflow", "great_expectations", "evidently", "bentoml", "lakefs",
                 "pyarrow", "psycopg2")


@pytest.fixture(scope="module")
def dagbag():  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_every_use_case_gets_its_dags_and_nothing_else_loads(dagbag) -> None:  # type: ignore[no-untyped-def]
    from include.common.usecase import load_usecases

    usecases = load_usecases()
    expected = {"stack_smoke", *(f"etl_{u.name}" for u in usecases),
                *(f"train_{u.name}" for u in usecases if u.training is not None),
                *(f"{kind}_{u.name}" for u in usecases if u.serving is not None for kind in ("deploy", "rollback")),
                *(f"monitor_{u.name}" for u in usecases if u.monitoring is not None)}
    assert {"etl_flights", "train_flights", "monitor_flights", "etl_hotels", "train_hotels", "monitor_hotels"} \
        <= expected
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == expected
    assert {Path(dag.fileloc).name for dag in dagbag.dags.values()} == {p.name for p in DAG_FILES}


def test_every_dag_has_owner_tags_docs_and_retries(dagbag) -> None:  # type: ignore[no-untyped-def]
    problems = []
    for dag_id, dag in dagbag.dags.items():
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if not (dag.doc_md or "").strip():
            problems.append(f"{dag_id}: no doc_md")
        for task in dag.tasks:
            if task.owner in ("", "airflow"):
                problems.append(f"{dag_id}.{task.task_id}: owner is {task.owner!r}")
            if task.retries < 1:
                problems.append(f"{dag_id}.{task.task_id}: retries={task.retries}")
    assert problems == []


@pytest.mark.parametrize("dag_file", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_has_no_heavy_imports_at_module_level(dag_file: Path) -> None:
    """Parsing a DAG file must not import the heavy libraries (they load inside tasks).

    Airflow itself is imported first, as in the dag-processor, so the printed time is the
    file's own parse cost.
    """
    probe = (
        "import json, runpy, sys, time\nimport airflow.sdk\n"
        f"start = time.perf_counter(); runpy.run_path({str(dag_file)!r}); elapsed = time.perf_counter() - start\n"
        f"print(json.dumps({{'heavy': [m for m in {HEAVY_MODULES!r} if m in sys.modules], 'seconds': elapsed}}))\n"
    )
    # Airflow loads its metadata-DB driver when a DB URL is configured (e.g. after `make env`):
    # that is Airflow's cost, not the DAG file's, so the probe runs without one.
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "plugins")])  # as the dag-processor has
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{dag_file.name}: parsed in {report['seconds']:.3f}s")
    assert report["heavy"] == []

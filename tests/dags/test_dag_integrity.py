"""Every DAG file loads with Airflow 3.3's DagBag and follows the project's conventions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
HEAVY_MODULES = ("pandas", "numpy", "scipy", "sklearn", "matplotlib", "mlflow", "great_expectations", "evidently",
                 "bentoml", "lakefs", "pyarrow", "psycopg2", "requests")


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
                *(f"rollback_data_{u.name}" for u in usecases),
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
    # this checkout's code first, as in the stack (an editable install may point at another checkout)
    root = DAGS_FOLDER.parent
    env["PYTHONPATH"] = os.pathsep.join([str(root), str(root / "plugins"), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False,
                            timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{dag_file.name}: parsed in {report['seconds']:.3f}s")
    assert report["heavy"] == []


# Trigger-form / REST values every DAG must refuse before a run exists (Airflow answers 400 naming the
# parameter). What needs the use case's data range is refused by the run's first task instead
# (tests/e2e/test_trigger_params.py).
BAD_PARAMS = {
    "etl_": [({"partition_date": "2013-02-30"}, "partition_date"), ({"partition_date": "yesterday"}, "partition_date"),
             ({"partition_date": "2013-02-04'; DROP TABLE flights;--"}, "partition_date"),
             ({"partition_date": 20130204}, "partition_date")],
    "train_": [({"window_days": 10**9}, "window_days"), ({"window_days": "56; DROP"}, "window_days"),
               ({"window_days": 1}, "window_days"), ({"window_end": "2013/03/01"}, "window_end"),
               ({"hyperparameters": [1, 2]}, "hyperparameters"), ({"hyperparameters": "{\"max_iter\": 3"},
                                                                   "hyperparameters"),
               ({"data_commit": "main'; DROP TABLE runs;--"}, "data_commit"), ({"model_family": "xgboost"},
                                                                             "model_family"),
               ({"seed": -1}, "seed"), ({"seed": 2**40}, "seed"), ({"evaluate_only": "maybe"}, "evaluate_only"),
               ({"evaluate_model_version": "1 OR 1=1"}, "evaluate_model_version"),
               ({"shuffle_labels": "yes please"}, "shuffle_labels")],
    "rollback_data_": [({"reason": "bad day"}, "to_commit"), ({"to_commit": "main"}, "reason"),
                       ({"to_commit": "main'; --", "reason": "bad day"}, "to_commit"),
                       ({"to_commit": "main", "reason": "x"}, "reason")],
    "monitor_": [({"day": "2013-02-30"}, "day"), ({"day": "yesterday"}, "day"),
                 ({"day": "2013-02-04'; DROP TABLE x;--"}, "day"), ({"day": 20130204}, "day"),
                 ({"retrain_in_backfill": "maybe"}, "retrain_in_backfill")],
    "deploy_": [({"model_version": "1 OR 1=1"}, "model_version"), ({"model_version": 3}, "model_version")],
    "rollback_": [({"to_version": "latest; rm -rf /"}, "to_version"), ({"to_version": "-1"}, "to_version")],
}
GOOD_PARAMS = {"etl_": {"partition_date": "2013-02-04"}, "train_": {"window_days": 30, "data_commit": "main~1"},
               "rollback_data_": {"to_commit": "a1b2c3", "reason": "bad day published"}, "stack_smoke": {},
               "deploy_": {"model_version": "3"}, "rollback_": {"to_version": "2"},
               "monitor_": {"day": "2013-02-04", "retrain_in_backfill": True}}


def test_every_dags_params_refuse_malformed_values_naming_the_parameter(dagbag) -> None:  # type: ignore[no-untyped-def]
    import copy

    from airflow.exceptions import ParamValidationError

    checked = set()
    for dag_id, dag in dagbag.dags.items():
        kind = next((prefix for prefix in (*BAD_PARAMS, "stack_smoke") if dag_id.startswith(prefix)), None)
        assert kind is not None, f"{dag_id}: no bad-parameter cases for this kind of DAG"
        params = copy.deepcopy(dag.params)
        params.update(GOOD_PARAMS[kind])
        params.validate()
        for conf, name in BAD_PARAMS.get(kind, []):
            params = copy.deepcopy(dag.params)
            with pytest.raises(ParamValidationError, match=f"param {name}:"):
                params.update(conf)
                params.validate()
        checked.add(kind)
    assert checked == {*BAD_PARAMS, "stack_smoke"}

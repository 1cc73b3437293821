"""train_hotels (regression) through the real scheduler on curated hotel bookings in lakeFS."""

from __future__ import annotations

from datetime import date

import pytest

from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from tests.support.curated_seed import seed_curated_days

DAG, MODEL = "train_hotels", "hotels_price"
HISTORY = (date(2016, 7, 2), date(2016, 8, 6))  # 36 days: 22 to train, 14 held out


@pytest.fixture(scope="module")
def trained(airflow_api: AirflowApi, stack_connections: None) -> dict[str, object]:
    airflow_api.wait_for_dag(DAG)
    seed_curated_days("hotels", *HISTORY)  # the hotels ETL runs through the scheduler in test_etl_hotels.py
    airflow_api.unpause(DAG)
    run_id = airflow_api.trigger(DAG)
    return {"run_id": run_id, "state": airflow_api.wait_for_run(DAG, run_id, timeout=900),
            "tasks": airflow_api.task_states(DAG, run_id), "train": airflow_api.xcom(DAG, run_id, "train")}


def test_train_hotels_registers_a_regression_model(trained: dict[str, object], stack_connections: None) -> None:
    assert trained["state"] == "success" and trained["tasks"] == {  # type: ignore[comparison-overlap]
        "pin_data": "success", "train_or_evaluate": "success", "train": "success", "evaluate": "skipped",
        "evaluation_gate": "success"}, trained
    result = trained["train"]
    assert isinstance(result, dict)
    client = MlflowHook().get_conn()
    run = client.get_run(result["run_id"])
    metrics = run.data.metrics
    assert {"holdout.mae", "holdout.rmse", "holdout.r2"} <= set(metrics)
    assert 0 < metrics["holdout.mae"] < metrics["holdout.rmse"] * 1.01
    assert any(key.startswith("holdout.slice.market_segment.") for key in metrics)
    assert run.data.params["window_start"] == HISTORY[0].isoformat()
    assert run.data.tags["lakefs_repository"] == "hotels"
    plots = {item.path for item in client.list_artifacts(result["run_id"], "plots")}
    assert {"plots/residuals.png", "plots/predicted_vs_actual.png", "plots/feature_importance.png"} <= plots
    version = client.get_model_version(MODEL, result["model_version"])
    assert version.tags["gate_verdict"] == "pass"
    assert dict(client.get_registered_model(MODEL).aliases) == {"challenger": result["model_version"]}

"""etl_hotels runs from configuration only (no hotel-specific code in dags/ or plugins/)."""

from __future__ import annotations

import io

import pandas as pd

from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi


def test_hotels_day_is_published(airflow_api: AirflowApi, stack_connections: None) -> None:
    airflow_api.wait_for_dag("etl_hotels")
    airflow_api.unpause("etl_hotels")
    run_id = airflow_api.trigger("etl_hotels", conf={"partition_date": "2016-08-01"})
    assert airflow_api.wait_for_run("etl_hotels", run_id, timeout=600) == "success"
    lakefs = LakeFSHook(repository="hotels")
    frame = pd.read_parquet(io.BytesIO(
        lakefs.download("main", "curated/hotels/arrival_date=2016-08-01/part-0.parquet")))
    assert len(frame) > 5 and set(frame["arrival_date"]) == {"2016-08-01"}
    assert frame["booking_id"].is_unique

"""MLflow naming that needs no server: metric keys and the lakeFS dataset source."""

from __future__ import annotations

from include.training.tracking import LakeFSDatasetSource, LoggedRun, flat_metrics


def test_metric_keys_flatten_slices_and_drop_characters_mlflow_rejects() -> None:
    flat = flat_metrics("holdout", {"mae": 1.0}, {"market_segment": {"Offline TA/TO": {"mae": 2.0}, "a(b)": {}}})
    assert flat == {"holdout.mae": 1.0, "holdout.slice.market_segment.Offline TA/TO.mae": 2.0}
    assert flat_metrics("holdout", {"mae": 1.0}, {"s": {"a(b)": {"mae": 3.0}}})["holdout.slice.s.a_b_.mae"] == 3.0


def test_lakefs_dataset_source_round_trips_its_uri() -> None:
    source = LakeFSDatasetSource("flights", "c0ffee", "curated/flights/", "http://127.0.0.1:8000")
    assert LakeFSDatasetSource.from_json(source.to_json()).uri == "lakefs://flights/c0ffee/curated/flights/"
    assert LakeFSDatasetSource._can_resolve(source.uri) and not LakeFSDatasetSource._can_resolve("s3://b/k")
    assert LakeFSDatasetSource._resolve(source.uri).commit_id == "c0ffee"


def test_logged_run_links_open_the_run_and_the_model_version() -> None:
    logged = LoggedRun("r1", "4", "flights_delay", "7")
    assert logged.run_url("http://mlflow") == "http://mlflow/#/experiments/4/runs/r1"
    assert logged.model_url("http://mlflow") == "http://mlflow/#/models/flights_delay/versions/7"

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


def test_a_retry_closes_unfinished_runs_and_deletes_the_versions_they_registered() -> None:
    from types import SimpleNamespace

    from include.common.usecase import load_usecase
    from include.training.tracking import fail_unfinished_runs

    def run(run_id: str, status: str) -> SimpleNamespace:
        return SimpleNamespace(info=SimpleNamespace(run_id=run_id, status=status))

    class Client:
        def __init__(self) -> None:
            self.terminated: list[tuple[str, str]] = []
            self.deleted: list[tuple[str, str]] = []
            self.versions = {"died-after-register": [SimpleNamespace(name="flights_delay", version="7")]}

        def get_experiment_by_name(self, name: str) -> SimpleNamespace:
            return SimpleNamespace(experiment_id="1")

        def search_runs(self, experiments: list[str], query: str) -> list[SimpleNamespace]:
            assert "tags.`airflow_run_id` = 'manual__1'" in query
            return [run("done", "FINISHED"), run("died-after-register", "RUNNING"), run("failed-before", "FAILED")]

        def set_terminated(self, run_id: str, status: str) -> None:
            self.terminated.append((run_id, status))

        def search_model_versions(self, query: str) -> list[SimpleNamespace]:
            return self.versions.get(query.split("'")[1], [])

        def delete_model_version(self, name: str, version: str) -> None:
            self.deleted.append((name, version))

    client = Client()
    closed = fail_unfinished_runs(client, load_usecase("flights"),  # type: ignore[arg-type]
                                  {"airflow_run_id": "manual__1", "airflow_task_id": "train"})
    assert closed == ["died-after-register"] and client.terminated == [("died-after-register", "FAILED")]
    assert client.deleted == [("flights_delay", "7")]  # the finished run's version is kept

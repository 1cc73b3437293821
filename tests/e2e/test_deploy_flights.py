"""deploy_flights and rollback_flights through the real scheduler: real MLflow, Bentos served by real
BentoML servers from their own environments, the real nginx proxy, approvals through the REST API.

One module, in order: a gated version reaches production from its challenger event (staging, then
an approval); a second version is promoted and rolled back while a client sends requests without
pause (no failed request, both versions seen); a rejected approval changes nothing; Bentos that fail
parity or crash on malformed requests are never promoted, and say why.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
from mlflow import MlflowClient

from include.common.metadata import Alias, Artifact, TagKey
from include.common.usecase import load_usecase
from include.serving.slots import SlotLayout, read_slot
from include.training.service import PinnedData, run_settings_for, train_and_log
from include.training.tracking import DataRef
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import received_alerts
from tests.support.source_data import partitions

DEPLOY, ROLLBACK, MODEL = "deploy_flights", "rollback_flights", "flights_delay"
FAULTY = {"flights_parity_fault": "parity", "flights_crash_fault": "malformed request"}
WINDOWS = {"1": (date(2013, 2, 4), date(2013, 3, 3)), "2": (date(2013, 3, 4), date(2013, 3, 31))}


@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


@pytest.fixture(scope="module")
def versions(mlflow_client: MlflowClient, stack: StackConfig) -> dict[str, str]:
    """Two flights versions trained on real days and marked as the evaluation gate marks a pass (the
    gate itself is tested in test_training_flights); copies of version 1 for the broken services."""
    usecase = load_usecase("flights")
    runs = {}
    for expected, (first, last) in WINDOWS.items():
        pinned = PinnedData(usecase.lakefs_repository, "f" * 64, "main", first, last, (last - first).days + 1)
        data = DataRef(usecase.lakefs_repository, pinned.commit_id, usecase.dataset_prefix, "http://127.0.0.1", "")
        logged = train_and_log(mlflow_client, usecase, run_settings_for(usecase, pinned),
                               partitions("flights", first, last), data,
                               {"airflow_run_id": f"deploy-test-{expected}", "airflow_task_id": "train"}, "test")
        assert logged.model_version == expected
        mlflow_client.set_model_version_tag(MODEL, expected, TagKey.GATE_VERDICT, "pass")
        runs[expected] = logged.run_id
    for faulty in FAULTY:
        mlflow_client.create_registered_model(faulty)
        copy = mlflow_client.copy_model_version(f"models:/{MODEL}/1", faulty)
        mlflow_client.set_model_version_tag(faulty, copy.version, TagKey.GATE_VERDICT, "pass")
    return runs


@pytest.fixture(scope="module", autouse=True)
def leave_the_registry_as_found(airflow_api: AirflowApi, mlflow_client: MlflowClient) -> Iterator[None]:
    """The stack is shared by the session: later modules (training) expect no flights model yet and
    no deploy DAG reacting to their challenger events."""
    yield
    for dag in (DEPLOY, ROLLBACK, *(f"deploy_{name}" for name in FAULTY)):
        airflow_api.pause(dag)
    for name in (MODEL, *FAULTY):
        if mlflow_client.search_registered_models(f"name='{name}'"):
            mlflow_client.delete_registered_model(name)


def layout(stack: StackConfig) -> SlotLayout:
    return SlotLayout.load(stack.home / "serving")  # as the stack recorded it


def endpoint(stack: StackConfig, slot: str, usecase: str = "flights") -> str:
    return layout(stack).endpoint(usecase, slot)


def sample_records(client: MlflowClient, run_id: str, rows: int = 3) -> list[dict[str, Any]]:
    import pandas as pd

    frame = pd.read_parquet(client.download_artifacts(run_id, Artifact.HOLDOUT_SAMPLE)).head(rows)
    return list(json.loads(frame.to_json(orient="records")))


def served_version(url: str, records: list[dict[str, Any]]) -> str:
    response = requests.post(f"{url}/predict", json={"records": records}, timeout=30)
    response.raise_for_status()
    return str(response.json()[0]["model_version"])


def deploy(api: AirflowApi, version: str | None = None, *, answer: str | None = "Approve",
           run_id: str | None = None) -> tuple[str, dict[str, str]]:
    """Trigger (or follow) a deploy_flights run, answer its approval, wait for the end."""
    run_id = run_id or api.trigger(DEPLOY, {"model_version": version})
    if answer is not None:
        assert api.wait_for_task(DEPLOY, run_id, "approve_production", {"awaiting_input"}, 900) == "awaiting_input", \
            api.task_states(DEPLOY, run_id)
        api.answer_approval(DEPLOY, run_id, "approve_production", answer)
    api.wait_for_run(DEPLOY, run_id, timeout=600)
    return run_id, api.task_states(DEPLOY, run_id)


class Client(threading.Thread):
    """Sends one-record requests to an endpoint without pause (a new connection each), counting
    answers per model version and every failure, until stopped."""

    def __init__(self, url: str, records: list[dict[str, Any]]) -> None:
        super().__init__(daemon=True)
        self.url, self.records = url, records[:1]
        self.versions: Counter[str] = Counter()
        self.failures: list[str] = []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                response = requests.post(f"{self.url}/predict", json={"records": self.records}, timeout=30,
                                         headers={"Connection": "close"})
                if response.status_code == 200:
                    self.versions[str(response.json()[0]["model_version"])] += 1
                else:
                    self.failures.append(f"{response.status_code}: {response.text[:200]}")
            except requests.RequestException as error:
                self.failures.append(repr(error))

    def stop(self) -> None:
        self.halt.set()
        self.join(60)


def test_a_gated_challenger_reaches_production_through_staging_and_approval(
        airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient, versions: dict[str, str]) -> None:
    for dag in (DEPLOY, ROLLBACK, *(f"deploy_{name}" for name in FAULTY)):
        airflow_api.wait_for_dag(dag)
        airflow_api.unpause(dag)
    assert requests.get(f"{endpoint(stack, 'production')}/readyz", timeout=5).status_code == 503  # nothing yet

    airflow_api.emit_asset_event("challenger_flights", {"model_name": MODEL, "model_version": "1",
                                                        "run_id": versions["1"]})
    deadline = time.monotonic() + 120
    while not (runs := airflow_api.runs(DEPLOY)) and time.monotonic() < deadline:
        time.sleep(2)
    assert runs, "the challenger event started no deploy_flights run"
    run_id = runs[0]["dag_run_id"]
    assert airflow_api.wait_for_task(DEPLOY, run_id, "approve_production", {"awaiting_input"}, 900) == \
        "awaiting_input", airflow_api.task_states(DEPLOY, run_id)

    records = sample_records(mlflow_client, versions["1"])
    assert served_version(endpoint(stack, "staging"), records) == "1"  # staged before the approval
    assert requests.get(f"{endpoint(stack, 'production')}/readyz", timeout=5).status_code == 503
    pending = airflow_api.call("GET", "/dags/~/dagRuns/~/hitlDetails", params={"response_received": False})
    detail = next((d for d in pending["hitl_details"] if run_id in json.dumps(d)), None)
    assert detail is not None, pending
    assert "Infra validation" in detail["body"] and "p99" in detail["body"] and "pass" in detail["body"]

    _, tasks = deploy(airflow_api, answer="Approve", run_id=run_id)
    assert set(tasks.values()) == {"success"}, tasks
    assert served_version(endpoint(stack, "production"), records) == "1"
    assert dict(mlflow_client.get_registered_model(MODEL).aliases) == {Alias.STAGING: "1", Alias.CHAMPION: "1"}

    version = mlflow_client.get_model_version(MODEL, "1")
    served = {slot: read_slot(layout(stack), "flights", slot) for slot in ("staging", "production")}
    assert {slot: state.bento if state else None for slot, state in served.items()} == \
        {"staging": version.tags[TagKey.BENTO], "production": version.tags[TagKey.BENTO]}  # approved = served
    assert version.tags[TagKey.INFRA_VERDICT] == "passed"
    assert version.tags[TagKey.APPROVED_BY]
    report = json.loads(Path(mlflow_client.download_artifacts(versions["1"], Artifact.INFRA_VALIDATION)).read_text())
    assert report["parity"]["mismatches"] == 0 and report["parity"]["rows"] == 200
    assert {case["case"] for case in report["malformed"] if case["ok"]} == \
        {"missing field", "wrong type", "unknown field", "empty batch", "oversized batch", "no records key",
         "wrong content type", "garbage body"}
    metrics = mlflow_client.get_run(versions["1"]).data.metrics
    assert metrics["serving.load_p99_ms"] > 0 and metrics["serving.load_requests_per_second"] > 0

    bento = yaml_of(stack, version.tags[TagKey.BENTO])
    assert bento["labels"]["mlflow_run_id"] == versions["1"] and bento["labels"]["model_version"] == "1"
    assert bento["labels"]["lakefs_commit"] == "f" * 64 and bento["labels"]["code_version"] == "test"
    requirements = (bento_dir(stack, version.tags[TagKey.BENTO]) / "env/python/requirements.txt").read_text()
    assert "scikit-learn==" in requirements and "airflow" not in requirements.lower()

    links = airflow_api.call("GET", f"/dags/{DEPLOY}/dagRuns/{run_id}/taskInstances/deploy_production/links")
    assert links["extra_links"]["Endpoint docs"] == f"{endpoint(stack, 'production')}/docs"
    assert requests.get(links["extra_links"]["Endpoint docs"], timeout=10).status_code == 200
    links = airflow_api.call("GET", f"/dags/{DEPLOY}/dagRuns/{run_id}/taskInstances/infra_validation/links")
    assert links["extra_links"]["Infra validation report"].endswith(Artifact.INFRA_VALIDATION)


def test_promotion_and_rollback_lose_no_request(
        airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient, versions: dict[str, str]) -> None:
    client = Client(endpoint(stack, "production"), sample_records(mlflow_client, versions["2"]))
    client.start()
    try:
        _, tasks = deploy(airflow_api, "2")
        assert set(tasks.values()) == {"success"}, tasks
        promoted = client.versions.copy()
        rollback_run = airflow_api.trigger(ROLLBACK, {})
        assert airflow_api.wait_for_run(ROLLBACK, rollback_run, timeout=300) == "success"
        time.sleep(1)
    finally:
        client.stop()
    assert client.failures == [], client.failures[:5]
    assert promoted["1"] > 0 and promoted["2"] > 0, promoted  # the client saw the switch
    assert client.versions["1"] > promoted["1"], client.versions  # and the switch back
    assert dict(mlflow_client.get_registered_model(MODEL).aliases)[Alias.CHAMPION] == "1"
    assert mlflow_client.get_model_version(MODEL, "2").tags[TagKey.PREVIOUS_CHAMPION] == "1"
    events = airflow_api.asset_events(ROLLBACK)
    assert events and events[-1]["extra"]["model_version"] == "1", events


def test_a_rejected_approval_changes_nothing(
        airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient, versions: dict[str, str]) -> None:
    records = sample_records(mlflow_client, versions["1"])
    _, tasks = deploy(airflow_api, "2", answer="Reject")
    assert tasks["approve_production"] == "success" and tasks["deploy_production"] == "skipped", tasks
    assert served_version(endpoint(stack, "production"), records) == "1"
    assert dict(mlflow_client.get_registered_model(MODEL).aliases)[Alias.CHAMPION] == "1"
    assert served_version(endpoint(stack, "staging"), records) == "2"  # staging is not production


def test_broken_bentos_are_never_promoted_and_say_why(
        airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient, versions: dict[str, str]) -> None:
    runs = {name: airflow_api.trigger(f"deploy_{name}", {"model_version": "1"}) for name in FAULTY}
    for name, run_id in runs.items():
        assert airflow_api.wait_for_run(f"deploy_{name}", run_id, timeout=900) == "failed"
        tasks = airflow_api.task_states(f"deploy_{name}", run_id)
        assert tasks["infra_validation"] == "failed", tasks
        assert tasks["deploy_staging"] == "upstream_failed" and tasks["deploy_production"] == "upstream_failed"
        version = mlflow_client.get_model_version(name, "1")
        assert version.tags[TagKey.INFRA_VERDICT] == "failed"
        assert FAULTY[name] in version.tags[TagKey.INFRA_REASONS], version.tags[TagKey.INFRA_REASONS]
        assert Alias.STAGING not in mlflow_client.get_registered_model(name).aliases
        assert requests.get(f"{endpoint(stack, 'staging', name)}/readyz", timeout=5).status_code == 503
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        mails = [m for m in received_alerts(stack, "mail") if "infra_validation" in str(m.get("subject", ""))]
        if {name for name in FAULTY if any(name in str(m) for m in mails)} == set(FAULTY):
            break
        time.sleep(2)
    assert {name for name in FAULTY if any(f"deploy_{name}" in str(m) for m in mails)} == set(FAULTY)
    parity_mail = next(m for m in mails if "deploy_flights_parity_fault" in str(m))
    assert "parity" in str(parity_mail)


def bento_dir(stack: StackConfig, tag: str) -> Path:
    name, version = tag.split(":")
    return layout(stack).bentoml_home / "bentos" / name / version


def yaml_of(stack: StackConfig, tag: str) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load((bento_dir(stack, tag) / "bento.yaml").read_text()))

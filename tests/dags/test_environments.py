"""The DAGs as each environment builds them (MLOPS_ENVIRONMENT when the files are parsed): the paused flag,
the environment's names in Assets and docs, and no automatic production approval outside dev."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.usecases import auto_approving_usecase

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"


def build_dagbag(monkeypatch: pytest.MonkeyPatch, environment: str, dag_file: str = "") -> Any:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("MLOPS_ENVIRONMENT", environment)
    dagbag = DagBag(dag_folder=str(DAGS_FOLDER / dag_file))
    assert dagbag.import_errors == {}
    return dagbag


@pytest.fixture(scope="module")
def prod_dagbag() -> Iterator[Any]:
    """Every DAG file parsed with MLOPS_ENVIRONMENT=prod (kept set while this module's tests run)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield build_dagbag(monkeypatch, "prod")


@pytest.fixture
def asked_a_person(monkeypatch: pytest.MonkeyPatch) -> str:
    """Airflow's HITL approval replaced by a marker: what a task returns when it would ask a person."""
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    monkeypatch.setattr(ApprovalOperator, "execute", lambda self, context: "asked a person")
    return "asked a person"


def test_prod_builds_every_dag_unpaused_at_creation(prod_dagbag: Any) -> None:
    from tests.dags.test_dag_integrity import expected_dag_ids

    assert set(prod_dagbag.dags) == expected_dag_ids()
    assert {dag_id: dag.is_paused_upon_creation for dag_id, dag in prod_dagbag.dags.items()} == \
        dict.fromkeys(prod_dagbag.dags, False)


def test_prod_dags_carry_prods_names(prod_dagbag: Any) -> None:
    etl, train, deploy = (prod_dagbag.dags[f"{kind}_flights"] for kind in ("etl", "train", "deploy"))
    [curated] = etl.get_task("announce").outlets
    assert curated.uri == "lakefs://flights-prod/main/curated/flights"
    [challenger] = train.get_task("evaluation_gate").outlets
    assert challenger.uri == "mlflow://models/flights_delay_prod/challenger"
    assert "MLflow model `flights_delay_prod`" in train.doc_md and "`prod/train_flights`" in train.doc_md
    assert "auto-approved" not in deploy.doc_md and "Only gated versions of `flights_delay_prod`" in deploy.doc_md
    assert "`flights-prod`" in prod_dagbag.dags["rollback_data_flights"].doc_md


def test_no_prod_deployment_approves_itself(prod_dagbag: Any, asked_a_person: str) -> None:
    approvals = [dag.get_task("approve_production") for dag_id, dag in prod_dagbag.dags.items()
                 if dag_id.startswith("deploy_")]
    assert approvals
    for task in approvals:
        assert task.execute({}) == asked_a_person, task.dag_id


def test_local_environments_create_dags_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    for environment in ("dev", "test"):
        dagbag = build_dagbag(monkeypatch, environment)
        assert {dag.is_paused_upon_creation for dag in dagbag.dags.values()} == {True}, environment
        assert dagbag.dags["etl_flights"].get_task("announce").outlets[0].uri == "lakefs://flights/main/curated/flights"


def test_a_use_case_asking_for_auto_approval_gets_it_only_in_dev(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asked_a_person: str) -> None:
    from mlops.operators.base import InputError

    auto_approving_usecase(tmp_path, monkeypatch)
    dev = build_dagbag(monkeypatch, "dev", "serving.py").dags["deploy_flights_auto"]
    assert "**auto-approved** in dev" in dev.doc_md
    assert dev.get_task("approve_production").execute({})["responded_by_user"]["name"] == "auto-approval (dev)"
    for environment in ("test", "staging", "prod"):
        dag = build_dagbag(monkeypatch, environment, "serving.py").dags["deploy_flights_auto"]
        assert f"which {environment} refuses" in dag.doc_md and "**auto-approved**" not in dag.doc_md
        with pytest.raises(InputError, match=f"allowed only in dev, not in {environment}"):
            dag.get_task("approve_production").execute({})

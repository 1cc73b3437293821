"""The production approval's auto-approval rule and who approved (no servers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.operators.base import InputError
from mlops.operators.deployment import ProductionApprovalOperator, approver
from tests.support.usecases import auto_approving_usecase


def approval(usecase: str) -> ProductionApprovalOperator:
    return ProductionApprovalOperator(task_id="approve_production", usecase=usecase, subject="s", body="b")


def test_auto_approval_works_only_in_dev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    auto_approving_usecase(tmp_path, monkeypatch)
    monkeypatch.setenv("MLOPS_ENVIRONMENT", "dev")
    result = approval("flights_auto").execute({})
    assert result["chosen_options"] == ["Approve"] and approver(result) == "auto-approval (dev)"
    for environment in ("test", "staging", "prod"):
        monkeypatch.setenv("MLOPS_ENVIRONMENT", environment)
        with pytest.raises(InputError, match=f"auto_approve is allowed only in dev, not in {environment}"):
            approval("flights_auto").execute({})


def test_without_auto_approve_a_person_approves_even_in_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.standard.operators.hitl import ApprovalOperator

    monkeypatch.setattr(ApprovalOperator, "execute", lambda self, context: "asked a person")
    for environment in ("dev", "prod"):
        monkeypatch.setenv("MLOPS_ENVIRONMENT", environment)
        assert approval("flights").execute({}) == "asked a person"


def test_an_unknown_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from include.common.environments import EnvironmentConfigError, current_environment

    monkeypatch.setenv("MLOPS_ENVIRONMENT", "production")  # the old spelling: prod now
    with pytest.raises(EnvironmentConfigError, match="must be one of dev, test, staging, prod"):
        current_environment()


def test_the_approver_comes_from_the_answer() -> None:
    assert approver({"responded_by_user": {"id": "7", "name": "alice"}}) == "alice"
    assert approver({"responded_by_user": {"id": "7"}}) == "7"
    assert approver(None) == "" and approver("None") == ""

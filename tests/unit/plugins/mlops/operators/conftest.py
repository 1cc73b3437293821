"""Fixtures shared by the operator tests: one in-memory lakeFS behind every operator's hook."""

from __future__ import annotations

import pytest

from mlops.operators.base import UseCaseOperator
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS


@pytest.fixture
def lakefs(monkeypatch: pytest.MonkeyPatch) -> FakeLakeFS:
    fake = FakeLakeFS()
    monkeypatch.setattr(UseCaseOperator, "lakefs", lambda self, usecase: fake)
    monkeypatch.setenv("MLOPS_GIT_REVISION", "abc123")
    return fake

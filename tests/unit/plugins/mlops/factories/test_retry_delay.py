"""Every DAG's retry delay: the factory's own, unless the stack sets one for all (the test stack does)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mlops.factories import RETRY_DELAY_ENV, retry_delay


def test_the_factorys_delay_unless_the_stack_sets_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RETRY_DELAY_ENV, raising=False)
    assert retry_delay(20) == timedelta(seconds=20)
    monkeypatch.setenv(RETRY_DELAY_ENV, "5")
    assert retry_delay(20) == retry_delay(30) == timedelta(seconds=5)
    monkeypatch.setenv(RETRY_DELAY_ENV, " ")
    assert retry_delay(30) == timedelta(seconds=30)

"""AirflowApi.answer_approval against a scripted task instance (the REST calls faked; the e2e tiers use the
real API server)."""

from __future__ import annotations

from typing import Any

import pytest

from scripts import airflow_api
from scripts.airflow_api import AirflowApi, AirflowApiError


class ScriptedApi(AirflowApi):
    """The approval task goes through ``states`` (one per GET, the last repeated); each PATCH is recorded and
    the script may jump on an answer (``on_answer``: try number -> states that follow)."""

    def __init__(self, states: list[tuple[str, int]], on_answer: dict[int, list[tuple[str, int]]]) -> None:
        self.states, self.on_answer, self.patches = list(states), on_answer, []  # no login

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        if method == "PATCH":
            try_number = self.states[0][1]
            self.patches.append((try_number, kwargs["json"]["chosen_options"]))
            self.states = list(self.on_answer.get(try_number, self.states))
            return {"chosen_options": kwargs["json"]["chosen_options"]}
        if path.endswith("/taskInstances"):
            return {"task_instances": [{"task_id": "approve", "state": self.states[0][0]}]}
        state, try_number = self.states[0] if len(self.states) == 1 else self.states.pop(0)
        return {"state": state, "try_number": try_number}


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(airflow_api.time, "sleep", lambda _seconds: None)


def test_an_answer_taken_at_once_is_sent_once() -> None:
    api = ScriptedApi([("running", 1), ("awaiting_input", 1)],
                      {1: [("scheduled", 1), ("running", 1), ("success", 1)]})
    assert api.answer_approval("d", "r", "approve", "Approve", settle_seconds=0) == {"chosen_options": ["Approve"]}
    assert api.patches == [(1, ["Approve"])]


def test_a_retry_asking_again_is_answered_again() -> None:
    """Airflow 3.3 kills a try answered while it was still being parked; its retry asks again."""
    api = ScriptedApi([("awaiting_input", 1)],
                      {1: [("up_for_retry", 1), ("awaiting_input", 2)], 2: [("running", 2), ("success", 2)]})
    api.answer_approval("d", "r", "approve", "Reject", settle_seconds=0)
    assert api.patches == [(1, ["Reject"]), (2, ["Reject"])]


def test_a_task_that_ends_unasked_returns_nothing_and_one_never_ending_raises() -> None:
    assert ScriptedApi([("failed", 1)], {}).answer_approval("d", "r", "approve", "Approve") == {}
    with pytest.raises(AirflowApiError, match="did not take the answer 'Approve'"):
        ScriptedApi([("running", 1)], {}).answer_approval("d", "r", "approve", "Approve", timeout=0.05)

"""train_<name>'s weekly schedule: unpausing it (e.g. after a history load) waits for the next fire time
instead of training at once, even just after a Monday's (no servers)."""

from __future__ import annotations

from datetime import UTC, datetime

import pendulum
import pytest
from airflow.timetables.trigger import CronTriggerTimetable

from include.common.usecase import load_usecase
from mlops.factories.training import build_training_dag


@pytest.mark.parametrize("now", [datetime(2026, 11, 30, 4, 47, tzinfo=UTC),   # Monday, 1h47 after 03:00
                                 datetime(2026, 12, 2, 12, 0, tzinfo=UTC)])   # Wednesday
def test_unpausing_waits_for_the_next_scheduled_training(now: datetime, monkeypatch: pytest.MonkeyPatch) -> None:
    defined = build_training_dag(load_usecase("flights")).timetable.timetable
    timetable = CronTriggerTimetable(defined.expression, timezone=defined.timezone,
                                     run_immediately=defined.run_immediately)
    monkeypatch.setattr("airflow.timetables.trigger.utcnow", lambda: pendulum.instance(now))
    assert timetable._calc_first_run() == pendulum.datetime(2026, 12, 7, 3, tz="UTC")  # the next Monday 03:00

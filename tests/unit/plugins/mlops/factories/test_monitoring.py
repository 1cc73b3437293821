"""monitor_<name> as the factory builds it, and train_<name> listening to its drift Asset (no servers)."""

from __future__ import annotations

from datetime import date

import pytest

from include.common.usecase import load_usecase
from mlops.factories.monitoring import build_monitoring_dag
from mlops.factories.training import build_training_dag
from mlops.operators.base import InputError
from mlops.operators.monitoring import monitored_day


def test_monitoring_dag_shape_schedule_and_docs() -> None:
    usecase = load_usecase("flights")
    dag = build_monitoring_dag(usecase)
    assert dag.dag_id == "monitor_flights"
    assert {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} == {
        "wait_for_partition": ["monitor"], "monitor": ["alert", "request_retraining"],
        "alert": [], "request_retraining": []}
    assert [asset.name for asset in dag.get_task("request_retraining").outlets] == ["drift_flights"]
    assert dag.get_task("wait_for_partition").mode == "reschedule"
    assert dag.get_task("monitor").pool == "monitoring"
    assert str(dag.timetable.timezone) in ("America/New_York", "Timezone('America/New_York')")
    assert dag.start_date.date() == date(2013, 1, 1) and dag.end_date.date() == date(2013, 12, 31)
    doc = " ".join((dag.doc_md or "").split())
    for text in ("300 rows", "wasserstein", "jensenshannon", "monitoring/flights/<day>/", "drift_flights",
                 "at most one request per 7 monitored days", "roc_auc"):
        assert text in doc, text
    assert set(dag.params) == {"day", "retrain_in_backfill"}


def test_training_listens_to_curated_data_and_drift() -> None:
    dag = build_training_dag(load_usecase("flights"))
    condition = dag.timetable.asset_condition
    assert type(condition).__name__ == "AssetAny"  # either one starts a run
    assert {asset.name for asset in condition.objects} == {"curated_flights", "drift_flights"}


def test_the_monitored_day_comes_from_the_param_or_the_interval_in_the_source_zone() -> None:
    flights = load_usecase("flights")
    assert monitored_day(flights, "2013-03-10", "") == date(2013, 3, 10)
    # 2013-03-10 00:00 in New York is 05:00 UTC: the interval's day is New York's
    assert monitored_day(flights, "None", "2013-03-10T05:00:00+00:00") == date(2013, 3, 10)
    with pytest.raises(InputError, match="needs the 'day' parameter"):
        monitored_day(flights, "", "")
    with pytest.raises(InputError, match="not-a-day"):
        monitored_day(flights, "not-a-day", "")

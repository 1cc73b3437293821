"""The ETL DAG per partition width: a timetable in the source's time zone whose data intervals are
exactly one partition, the templates that hand the interval to the operators, and the ``announce``
task that alone carries the curated Asset (no servers)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace

import jinja2
import pytest
from airflow.timetables.base import DataInterval, TimeRestriction
from airflow.timetables.interval import CronDataIntervalTimetable

from include.common.usecase import UseCase, load_usecase, load_usecase_file
from include.etl.windows import resolve_partition
from mlops.factories.etl import INTERVAL_END, INTERVAL_START, PARTITION_DATE, build_etl_dag
from tests.conftest import FIXTURE_USECASES


def usecase(name: str) -> UseCase:
    path = FIXTURE_USECASES / f"{name}.yaml"
    return load_usecase_file(path) if path.exists() else load_usecase(name)


def intervals(name: str, count: int) -> list[DataInterval]:
    """The first ``count`` data intervals the scheduler (or a backfill) would give the DAG's runs."""
    dag = build_etl_dag(usecase(name))
    timetable = CronDataIntervalTimetable(dag.timetable.expression, dag.timetable.timezone)
    found: list[DataInterval] = []
    last = None
    for _ in range(count):
        info = timetable.next_dagrun_info(last_automated_data_interval=last, restriction=TimeRestriction(
            earliest=dag.start_date, latest=dag.end_date, catchup=True))
        assert info is not None and info.data_interval is not None
        found.append(last := info.data_interval)
    return found


@pytest.mark.parametrize(("name", "starts"), [
    ("flights", ["2013-01-01", "2013-01-02", "2013-01-03"]),
    ("hotels", ["2016-07-02", "2016-07-03", "2016-07-04"]),
    ("flights_weekly", ["2012-12-31", "2013-01-07", "2013-01-14"]),
    ("flights_monthly", ["2013-01-01", "2013-02-01", "2013-03-01"]),
])
def test_every_data_interval_is_exactly_one_partition_in_the_source_time_zone(name: str, starts: list[str]) -> None:
    config = usecase(name)
    for interval, start in zip(intervals(name, len(starts)), starts, strict=True):
        partition = resolve_partition("", interval.start.isoformat(), interval.end.isoformat(),
                                      config.partition_width, config.source.timezone)
        assert partition.start == date.fromisoformat(start)
        assert (partition.window_start, partition.window_end) == (interval.start, interval.end)


def test_the_dag_spans_the_partitions_of_the_data_range_at_local_midnight() -> None:
    weekly = build_etl_dag(usecase("flights_weekly"))
    assert weekly.start_date == datetime(2012, 12, 31, 5, tzinfo=UTC)  # Monday 00:00 in New York
    assert weekly.end_date == datetime(2013, 12, 30, 5, tzinfo=UTC)    # the week holding 2013-12-31
    monthly = build_etl_dag(usecase("flights_monthly"))
    assert monthly.end_date == datetime(2013, 12, 1, 5, tzinfo=UTC)
    assert "One run = one **month** partition" in str(monthly.doc_md)
    assert "a Monday" in str(weekly.params.get_param("partition_date").description)


def test_only_the_announce_task_carries_the_curated_asset() -> None:
    dag = build_etl_dag(load_usecase("flights"))
    assert [t.task_id for t in dag.topological_sort()] == [
        "extract_to_branch", "validate", "commit", "publish", "announce"]
    assert [a.name for a in dag.get_task("announce").outlets] == ["curated_flights"]
    assert all(not dag.get_task(task).outlets for task in ("extract_to_branch", "validate", "commit", "publish"))


def render(template: str, **context: object) -> str:
    return jinja2.Template(template).render(**context)


def test_the_operators_get_the_param_and_the_whole_interval() -> None:
    run = SimpleNamespace(data_interval_start=datetime(2013, 1, 7, 5, tzinfo=UTC),
                          data_interval_end=datetime(2013, 1, 14, 5, tzinfo=UTC))
    assert render(INTERVAL_START, dag_run=run) == "2013-01-07T05:00:00+00:00"
    assert render(INTERVAL_END, dag_run=run) == "2013-01-14T05:00:00+00:00"
    manual = SimpleNamespace(data_interval_start=None, data_interval_end=None)
    assert render(INTERVAL_START, dag_run=manual) == render(INTERVAL_END, dag_run=manual) == ""
    assert render(PARTITION_DATE, params={"partition_date": "2013-01-07"}) == "2013-01-07"
    assert render(PARTITION_DATE, params={"partition_date": None}) == ""

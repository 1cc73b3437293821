"""The ETL DAG factory's partition-date template and its errors (no servers)."""

from datetime import date, datetime
from types import SimpleNamespace

import jinja2
import pytest

from include.etl.partitions import parse_partition_date
from mlops.factories.etl import PARTITION_DATE


def render(params: dict[str, object], interval_start: datetime | None) -> str:
    return jinja2.Template(PARTITION_DATE).render(params=params, dag_run=SimpleNamespace(
        data_interval_start=interval_start))


def test_scheduled_and_backfill_runs_use_the_data_interval() -> None:
    # no param: the operators resolve the partition from the data interval (test_etl_windows.py)
    assert render({"partition_date": None}, datetime(2013, 3, 4)) == ""


def test_manual_runs_use_the_param_even_without_a_data_interval() -> None:
    assert render({"partition_date": "2013-02-20"}, None) == "2013-02-20"
    assert parse_partition_date(render({"partition_date": "2013-02-20"}, None)) == date(2013, 2, 20)


def test_a_manual_run_without_a_date_fails_clearly() -> None:
    with pytest.raises(ValueError, match="must set the 'partition_date' parameter"):
        parse_partition_date(render({"partition_date": None}, None))

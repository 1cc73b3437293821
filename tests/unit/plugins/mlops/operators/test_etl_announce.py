"""The ``announce`` task: the curated dataset's Asset event for manual and scheduled runs, none for
backfills (run in-process with a stub context)."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from include.common.metadata import AssetExtra
from include.common.usecase import load_usecase
from include.etl.publishing import announces, run_type_name
from mlops.assets import curated_asset
from mlops.operators.etl import AnnounceCuratedOperator


def stub_context(*, run_type: str, run_id: str = "manual__2013-03-05T10:00:00+00:00") -> dict[str, Any]:
    """The keys of Airflow's task context that ``announce`` reads."""
    return {"dag_run": SimpleNamespace(run_id=run_id, run_type=run_type, dag_id="etl_flights"),
            "outlet_events": defaultdict(lambda: SimpleNamespace(extra={}))}


USECASE = load_usecase("flights")
ASSET = curated_asset(USECASE)
PUBLISHED = {"commit_id": "c0ffee", "partition": "2013-03-04",
             "path": "curated/flights/flight_date=2013-03-04/part-0.parquet", "rows": 912}


def announce() -> AnnounceCuratedOperator:
    return AnnounceCuratedOperator(task_id="announce", usecase="flights", published=PUBLISHED, outlets=[ASSET])


@pytest.mark.parametrize("run_type", ["manual", "scheduled"])
def test_manual_and_scheduled_runs_emit_the_event_with_the_commit(run_type: str) -> None:
    context = stub_context(run_type=run_type)
    extra = announce().execute(context)
    assert context["outlet_events"][ASSET].extra == extra == {
        AssetExtra.LAKEFS_REPOSITORY: "flights", AssetExtra.COMMIT_ID: "c0ffee", AssetExtra.PARTITION: "2013-03-04",
        AssetExtra.PATH: PUBLISHED["path"], AssetExtra.ROWS: 912, AssetExtra.RUN_TYPE: run_type}


def test_a_backfill_run_skips_so_no_event_is_emitted() -> None:
    context = stub_context(run_type="backfill", run_id="backfill__2013-03-04T05:00:00+00:00")
    with pytest.raises(AirflowSkipException, match=r"partition 2013-03-04 is published on main .*not announced"):
        announce().execute(context)
    assert ASSET not in context["outlet_events"]


def test_the_task_sdk_run_type_enum_reads_as_its_value() -> None:
    from airflow.sdk.api.datamodels._generated import DagRunType

    assert str(DagRunType.BACKFILL) != "backfill"  # why run_type_name exists
    assert run_type_name(DagRunType.BACKFILL) == "backfill" and not announces(run_type_name(DagRunType.BACKFILL))
    assert announces(run_type_name(DagRunType.MANUAL)) and announces("scheduled")

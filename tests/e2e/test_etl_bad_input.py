"""Bad input through the real scheduler, real lakeFS and real alert servers.

Each case fails its run with a clear message, sends an email and a webhook alert, keeps the
evidence on a quarantine branch when data was written, and leaves lakeFS ``main`` untouched.
The defects are injected into a ``badinput`` schema of the test stack's source database; the
fixture use cases in ``tests/fixtures/usecases`` read from it.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2
import pytest

from include.common.lineage import branch_name
from mlops.hooks.lakefs import LakeFSHook
from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import received_alerts

FEB = "year = 2013 AND month = 2"
ALL_COLUMNS = ("year, month, day, dep_time, sched_dep_time, dep_delay, arr_time, sched_arr_time, arr_delay, carrier, "
               "flight, tailnum, origin, dest, air_time, {distance}, hour, minute, time_hour")
SETUP_SQL = [
    "DROP SCHEMA IF EXISTS badinput CASCADE",
    "CREATE SCHEMA badinput",
    f"CREATE TABLE badinput.flights AS SELECT * FROM flights WHERE {FEB} AND day IN (1, 2, 3, 4, 5, 9, 10, 11)",
    "CREATE INDEX ON badinput.flights (time_hour)",
    "UPDATE badinput.flights SET distance = -5 WHERE day = 1 AND flight % 7 = 0",
    "INSERT INTO badinput.flights SELECT * FROM badinput.flights WHERE day = 2 AND carrier = 'UA'",
    "UPDATE badinput.flights SET carrier = 'ZZ' WHERE day = 3 AND carrier = 'EV'",
    "UPDATE badinput.flights SET dest = NULL WHERE day = 4",
    "DELETE FROM badinput.flights WHERE day = 5",
    # relationships between columns (data contracts); each column stays valid on its own
    "UPDATE badinput.flights SET dep_delay = dep_delay + 30 WHERE day = 9 AND carrier = 'UA'",
    "UPDATE badinput.flights SET month = 3 WHERE day = 10 AND carrier = 'DL'",
    "UPDATE badinput.flights SET dep_time = NULL, dep_delay = NULL "
    "WHERE day = 11 AND carrier = 'B6' AND arr_delay IS NOT NULL",
    "CREATE VIEW badinput.flights_missing AS SELECT "
    + ALL_COLUMNS.replace(", {distance}", "") + f" FROM flights WHERE {FEB}",
    "CREATE VIEW badinput.flights_wrongtype AS SELECT "
    + ALL_COLUMNS.format(distance="distance::text AS distance") + f" FROM flights WHERE {FEB}",
]


@dataclass(frozen=True)
class Case:
    name: str
    dag_id: str
    day: str
    failed_task: str
    message: str
    quarantined: bool = True


CASES = [
    Case("out_of_range", "etl_badinput", "2013-02-01", "validate", "expect_column_values_to_be_between(distance)"),
    Case("duplicated_rows", "etl_badinput", "2013-02-02", "validate", "expect_compound_columns_to_be_unique"),
    Case("unknown_category", "etl_badinput", "2013-02-03", "validate", '"ZZ"'),
    Case("required_column_all_null", "etl_badinput", "2013-02-04", "validate",
         "expect_column_values_to_not_be_null(dest)"),
    Case("empty_day", "etl_badinput", "2013-02-05", "validate", "expect_table_row_count_to_be_between"),
    Case("missing_column", "etl_badinput_missing", "2013-02-06", "validate", "expect_table_columns_to_match_set"),
    Case("wrong_type", "etl_badinput_wrongtype", "2013-02-07", "validate",
         "expect_column_values_to_be_in_type_list(distance)"),
    Case("unreachable_source", "etl_badinput_unreachable", "2013-02-08", "extract_to_branch",
         "source 'source_unreachable' is unreachable", quarantined=False),
    Case("delay_disagrees_with_times", "etl_badinput", "2013-02-09", "validate",
         '"dep_delay = dep_time - sched_dep_time in minutes, modulo 24 h'),
    Case("date_part_disagrees_with_timestamp", "etl_badinput", "2013-02-10", "validate",
         '"month (from the source) is the New York month of time_hour"'),
    Case("arrival_without_departure", "etl_badinput", "2013-02-11", "validate",
         '"a flight with no dep_time (cancelled) has no arr_time"'),
    Case("rows_outside_the_window", "etl_badinput_window", "2013-02-12", "validate",
         "\"time_hour lies in the partition's window [2013-02-12T00:00:00-05:00, 2013-02-13T00:00:00-05:00)\""),
]


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    hook = LakeFSHook(repository="badinput")
    hook.ensure_repository()
    return hook


@pytest.fixture(scope="module")
def outcomes(stack: StackConfig, airflow_api: AirflowApi,
             lakefs: LakeFSHook) -> Iterator[dict[str, tuple[str, str, str]]]:
    """Inject the defects, trigger one run per case at once, wait; return (run id, state, main before)."""
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source", dbname="source")
    with conn, conn.cursor() as cur:
        for statement in SETUP_SQL:
            cur.execute(statement)
    conn.close()
    main_before = lakefs.head_commit("main")
    for dag_id in {case.dag_id for case in CASES}:
        airflow_api.wait_for_dag(dag_id)
        airflow_api.unpause(dag_id)
    runs = {case.name: airflow_api.trigger(case.dag_id, conf={"partition_date": case.day}) for case in CASES}
    yield {case.name: (runs[case.name], airflow_api.wait_for_run(case.dag_id, runs[case.name], timeout=900),
                       main_before) for case in CASES}
    conn = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source", dbname="source")
    with conn, conn.cursor() as cur:
        cur.execute("DROP SCHEMA badinput CASCADE")  # its views would block a reseed of the source
    conn.close()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_bad_input_fails_clearly_alerts_quarantines_and_keeps_main(
        case: Case, outcomes: dict[str, tuple[str, str, str]], airflow_api: AirflowApi, lakefs: LakeFSHook,
        stack: StackConfig) -> None:
    run_id, state, main_before = outcomes[case.name]
    assert state == "failed"
    states = airflow_api.task_states(case.dag_id, run_id)
    assert states[case.failed_task] == "failed", states
    assert states["publish"] in ("upstream_failed", "skipped"), states
    assert lakefs.head_commit("main") == main_before, "main moved"

    mails = [m for m in received_alerts(stack, "mail") if run_id in str(m["body"])]
    assert mails, f"no email alert for {run_id}"
    body = html.unescape(str(mails[-1]["body"]))
    assert case.dag_id in str(mails[-1]["subject"]) and case.failed_task in str(mails[-1]["subject"])
    assert case.message in body, body[:2000]
    assert "/dags/" + case.dag_id + "/runs/" in body  # link to the task log
    hooks = [w for w in received_alerts(stack, "webhook") if run_id in str(w["payload"])]
    assert hooks and case.message in str(hooks[-1]["payload"]["text"])  # type: ignore[index]

    expected = branch_name(f"quarantine-{case.dag_id[4:]}-{case.day}", run_id)
    quarantine = [b.id for b in lakefs.repository().branches(prefix=expected)]
    if not case.quarantined:
        assert quarantine == []
        return
    assert len(quarantine) == 1 and quarantine[0] in body
    objects = {o.path for o in lakefs.repository().ref(quarantine[0]).objects(prefix="")}
    usecase = case.dag_id[4:]
    partition_column = "flight_date"
    assert f"curated/{usecase}/{partition_column}={case.day}/part-0.parquet" in objects
    assert f"validation/{usecase}/{partition_column}={case.day}/result.json" in objects
    assert f"validation/{usecase}/{partition_column}={case.day}/data_docs/index.html" in objects
    head = lakefs.branch(quarantine[0]).get_commit()
    assert (head.metadata or {}).get("quarantine") == "true"

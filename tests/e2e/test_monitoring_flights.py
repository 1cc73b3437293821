"""monitor_flights through the real scheduler against a champion trained on January.

One module, in order: no champion yet (a clear skip); a champion trained by train_flights on 21 days
of January; a backfill of monitoring over early February (reports in lakeFS and MLflow, extra links,
no alert, no retraining); a normal day re-monitored by hand (same paths, one MLflow run, nothing
triggered); two days with their weather shifted in the source: the first alerts by email and webhook
and starts exactly one drift-triggered training, the second (within the cool-down) alerts but starts
none. Leaves the session as it found it: source restored, aliases removed, DAGs paused.
"""

from __future__ import annotations

import contextlib
import html
import json
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import psycopg2
import pytest
from mlflow import MlflowClient

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi, AirflowApiError
from scripts.stack import StackConfig
from tests.conftest import received_alerts
from tests.support.curated_seed import seed_curated_days

# the module's first test pays for a training and its set-up: 10+ minutes at load average 40
pytestmark = pytest.mark.timeout(3600)

DAG, ETL_DAG, TRAIN_DAG, MODEL = "monitor_flights", "etl_flights", "train_flights", "flights_delay"
TIMEZONE = "America/New_York"
HISTORY = (date(2013, 1, 11), date(2013, 2, 5))  # the champion's 21 days (to 01-31) and the monitored days
CHAMPION_WINDOW = {"window_days": 21, "window_end": "2013-01-31"}
BACKFILLED = ("2013-02-04", "2013-02-05")
NORMAL_DAY = "2013-02-05"  # re-monitored by hand after the backfill
DRIFTED = ("2013-02-09", "2013-02-10")  # weather shifted in the source before their ETL (02-06..08 never loaded)
REPORTS = {"drift.html", "drift.json", "performance.html", "performance.json", "summary.json", "trend.png"}
SHIFT_WEATHER = """UPDATE weather SET temp = temp + 45, dewp = dewp + 40, humid = LEAST(humid + 40, 100),
    wind_speed = wind_speed + 25, pressure = pressure - 45, visib = 3, precip = 0.25
    WHERE time_hour >= %(start)s::date::timestamp AT TIME ZONE 'America/New_York'
      AND time_hour < (%(end)s::date + 1)::timestamp AT TIME ZONE 'America/New_York'"""


def source(stack: StackConfig) -> Any:
    return psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="source", password="source", dbname="source")


def monitor(api: AirflowApi, day: str) -> dict[str, Any]:
    run_id = api.trigger(DAG, {"day": day})
    return {"run_id": run_id, "state": api.wait_for_run(DAG, run_id, timeout=900),
            "tasks": api.task_states(DAG, run_id)}


def task_log(api: AirflowApi, run_id: str, task_id: str) -> str:
    path = f"/dags/{DAG}/dagRuns/{run_id}/taskInstances/{task_id}/logs/1"
    return json.dumps(api.call("GET", path, params={"full_content": True}))


def monitored(api: AirflowApi, run_id: str) -> dict[str, Any]:
    return dict(api.xcom(DAG, run_id, "monitor"))


def drift_trainings(api: AirflowApi) -> list[dict[str, Any]]:
    return [r for r in api.runs(TRAIN_DAG) if r["run_type"] == "asset_triggered"]



@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


def drop_aliases(client: MlflowClient) -> None:
    from mlflow.exceptions import MlflowException

    for alias in ("champion", "challenger"):
        with contextlib.suppress(MlflowException):  # no such alias or model
            client.delete_registered_model_alias(MODEL, alias)


@pytest.fixture(scope="module")
def session(airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient) -> Iterator[dict[str, Any]]:
    """January and early February on lakeFS main (seeded: the ETL through the scheduler is tested elsewhere,
    and by the drifted days below), the DAGs unpaused; afterwards the source's weather restored, the aliases
    dropped and both DAGs paused again."""
    for dag_id in (ETL_DAG, TRAIN_DAG, DAG):
        airflow_api.wait_for_dag(dag_id)
    with contextlib.suppress(AirflowApiError):  # a drift-triggered training must deploy nothing here
        airflow_api.call("PATCH", "/dags/deploy_flights", json={"is_paused": True})
    drop_aliases(mlflow_client)  # whatever earlier modules left: this module starts without a champion
    conn = source(stack)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS monitoring_weather_backup AS SELECT * FROM weather WHERE "
                    "time_hour >= '2013-02-09 00:00-05' AND time_hour < '2013-02-11 00:00-05'")
    conn.close()
    seed_curated_days("flights", *HISTORY)
    airflow_api.unpause(ETL_DAG)
    airflow_api.unpause(TRAIN_DAG)
    airflow_api.unpause(DAG)
    yield {}
    for dag_id in (DAG, TRAIN_DAG):
        airflow_api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})
    drop_aliases(mlflow_client)
    conn = source(stack)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE weather w SET temp = b.temp, dewp = b.dewp, humid = b.humid, wind_speed = b.wind_speed, "
                    "pressure = b.pressure, visib = b.visib, precip = b.precip FROM monitoring_weather_backup b "
                    "WHERE w.origin = b.origin AND w.time_hour = b.time_hour")
        cur.execute("DROP TABLE monitoring_weather_backup")
    conn.close()


@pytest.fixture(scope="module")
def champion(session: dict[str, Any], airflow_api: AirflowApi, mlflow_client: MlflowClient) -> dict[str, Any]:
    """First a day with no champion (a clear skip), then train_flights on January and the alias set by hand
    (promotion belongs to the deployment stage)."""
    early = monitor(airflow_api, BACKFILLED[0])
    run_id = airflow_api.trigger(TRAIN_DAG, CHAMPION_WINDOW)
    assert airflow_api.wait_for_run(TRAIN_DAG, run_id, timeout=900) == "success"
    trained = airflow_api.xcom(TRAIN_DAG, run_id, "train")
    mlflow_client.set_registered_model_alias(MODEL, "champion", trained["model_version"])
    return {"early": early, "trained": trained}


def test_without_a_champion_the_day_is_skipped_with_the_reason(champion: dict[str, Any],
                                                               airflow_api: AirflowApi) -> None:
    early = champion["early"]
    assert early["state"] == "success" and early["tasks"] == {
        "wait_for_partition": "success", "monitor": "skipped", "alert": "skipped", "request_retraining": "skipped"}
    assert "no champion yet: registered model 'flights_delay' has no 'champion' alias" in \
        task_log(airflow_api, early["run_id"], "monitor")


@pytest.fixture(scope="module")
def backfilled(champion: dict[str, Any], airflow_api: AirflowApi) -> dict[str, Any]:
    started = time.monotonic()
    backfill_id = airflow_api.backfill(DAG, *BACKFILLED, timezone=TIMEZONE, max_active_runs=4)
    airflow_api.wait_for_backfill(backfill_id, timeout=1200)
    seconds = time.monotonic() - started
    runs = [r for r in airflow_api.runs(DAG, run_type="backfill")]
    return {"seconds": seconds, "runs": {r["dag_run_id"]: r for r in runs}}


def test_backfilled_days_are_reported_in_lakefs_and_mlflow_and_trigger_nothing(
        backfilled: dict[str, Any], champion: dict[str, Any], airflow_api: AirflowApi, lakefs: LakeFSHook,
        mlflow_client: MlflowClient, stack: StackConfig) -> None:
    assert len(backfilled["runs"]) == 2, backfilled["runs"]
    results = {}
    for run_id in backfilled["runs"]:
        tasks = airflow_api.task_states(DAG, run_id)
        assert tasks["monitor"] == "success" and tasks["alert"] == "skipped", (run_id, tasks)
        assert tasks["request_retraining"] == "skipped"
        result = monitored(airflow_api, run_id)
        results[result["day"]] = result
        assert "backfill run" in task_log(airflow_api, run_id, "request_retraining") or result["verdict"] == "ok"
    assert sorted(results) == ["2013-02-04", "2013-02-05"]
    print("\nbackfilled monitoring:", backfilled["seconds"], {d: (r["verdict"], round(r["drift_share"], 3),
                                                                  r["drifted_columns"], r["seconds"],
                                                                  r["peak_rss_mb"])
                                                              for d, r in results.items()})
    version = champion["trained"]["model_version"]
    for day, result in results.items():
        assert result["champion"]["version"] == version and result["champion"]["window_end"] == "2013-01-31"
        assert result["current"]["days"] == [day] and result["current"]["rows"] > 600
        listed = {obj.path.rsplit("/", 1)[1] for obj in lakefs.repository().ref("main").objects(
            prefix=f"monitoring/flights/{day}/")}
        assert listed == REPORTS, (day, listed)
        meta = lakefs.commit_metadata(result["lakefs_commit"])
        assert meta["monitoring_day"] == day and meta["airflow_dag_id"] == DAG and meta["mlflow_run_id"] == \
            result["mlflow_run_id"]
        run = mlflow_client.get_run(result["mlflow_run_id"])
        assert run.data.tags["monitoring_day"] == day and run.data.tags["monitored_model_version"] == version
        assert run.data.metrics["drift.share"] == pytest.approx(result["drift_share"])
        assert "performance.roc_auc" in run.data.metrics and "prediction.drift_score" in run.data.metrics
    links = dict(airflow_api.call("GET", f"/dags/{DAG}/dagRuns/{next(iter(backfilled['runs']))}/taskInstances/"
                                         "monitor/links")["extra_links"])
    assert links["Drift report"].endswith("/artifacts/reports/drift.html")
    assert links["Trend plot"].endswith("/artifacts/reports/trend.png") and "/runs/" in links["MLflow run"]
    assert links["lakeFS"].startswith(stack.lakefs_endpoint) and "&path=monitoring/flights/2013-02-0" in links["lakeFS"]
    html_report = lakefs.download("main", f"monitoring/flights/{BACKFILLED[0]}/drift.html").decode()
    # Evidently's HTML carries the report as embedded data (no "evidently" in it): the monitored columns are there
    assert "<html" in html_report[:3000].lower() and "wind_speed" in html_report and "plane_seats" in html_report
    assert drift_trainings(airflow_api) == []
    assert [a for a in received_alerts(stack, "mail") if "drift on" in str(a["subject"])] == []


def test_a_normal_day_rerun_replaces_its_reports_and_triggers_nothing(
        backfilled: dict[str, Any], airflow_api: AirflowApi, lakefs: LakeFSHook,
        mlflow_client: MlflowClient) -> None:
    normal = monitor(airflow_api, NORMAL_DAY)
    assert normal["state"] == "success" and normal["tasks"]["monitor"] == "success"
    result = monitored(airflow_api, normal["run_id"])
    assert result["verdict"] == "ok", result["reasons"]
    assert normal["tasks"]["alert"] == "skipped" and normal["tasks"]["request_retraining"] == "skipped"
    assert "no drift beyond the thresholds" in task_log(airflow_api, normal["run_id"], "request_retraining")
    experiment = mlflow_client.get_experiment_by_name(DAG)
    runs = mlflow_client.search_runs([experiment.experiment_id], f"tags.monitoring_day = '{NORMAL_DAY}'")
    assert [r.info.run_id for r in runs] == [result["mlflow_run_id"]]  # the backfill's run was replaced
    listed = {obj.path for obj in lakefs.repository().ref("main").objects(prefix=f"monitoring/flights/{NORMAL_DAY}/")}
    assert len(listed) == len(REPORTS)
    assert drift_trainings(airflow_api) == []


@pytest.fixture(scope="module")
def drifted(backfilled: dict[str, Any], airflow_api: AirflowApi, stack: StackConfig) -> dict[str, Any]:
    conn = source(stack)
    with conn, conn.cursor() as cur:
        cur.execute(SHIFT_WEATHER, {"start": DRIFTED[0], "end": DRIFTED[1]})
        shifted_rows = cur.rowcount
    conn.close()
    airflow_api.wait_for_backfill(airflow_api.backfill(ETL_DAG, *DRIFTED, timezone=TIMEZONE), timeout=900)
    mails_before = len(received_alerts(stack, "mail"))
    first = monitor(airflow_api, DRIFTED[0])
    deadline = time.monotonic() + 180
    while not drift_trainings(airflow_api):
        assert time.monotonic() < deadline, "no drift-triggered train_flights run appeared"
        time.sleep(3)
    airflow_api.wait_until_idle(TRAIN_DAG)
    second = monitor(airflow_api, DRIFTED[1])
    time.sleep(15)  # time for the scheduler to turn an event into a run, if there were one
    return {"first": first, "second": second, "mails_before": mails_before, "shifted_rows": shifted_rows}


def test_a_drifted_day_alerts_and_retrains_once_and_the_cooldown_holds(
        drifted: dict[str, Any], airflow_api: AirflowApi, stack: StackConfig, mlflow_client: MlflowClient) -> None:
    assert drifted["shifted_rows"] > 90
    first, second = drifted["first"], drifted["second"]
    assert first["tasks"] == {"wait_for_partition": "success", "monitor": "success", "alert": "success",
                              "request_retraining": "success"}, first
    result = monitored(airflow_api, first["run_id"])
    print("\ndrifted day:", result["day"], result["drift_share"], result["drifted_columns"], result["reasons"])
    # the shifted weather beyond its calibrated thresholds (temp 3, wind_speed 2.5, pressure 3; dewp +40 F is about
    # 3.5 January standard deviations, under its threshold of 4)
    assert result["verdict"] == "drift" and {"temp", "wind_speed", "pressure"} <= set(result["drifted_columns"])
    assert result["drift_share"] >= 0.15

    mails = [m for m in received_alerts(stack, "mail")[drifted["mails_before"]:] if "drift on" in str(m["subject"])]
    assert [m["subject"] for m in mails][:1] == [
        f"[Airflow] {DAG}: drift on {DRIFTED[0]} (flights, flights_delay v{result['champion']['version']}): "
        f"{len(result['reasons'])} finding(s)"]
    body = html.unescape(str(mails[0]["body"]))
    assert "temp" in body and result["report_url"] in body
    hooks = [w for w in received_alerts(stack, "webhook") if f"drift on {DRIFTED[0]}" in json.dumps(w)]
    assert len(hooks) == 1

    trainings = drift_trainings(airflow_api)
    assert len(trainings) == 1 and trainings[0]["state"] == "success", trainings
    trained = airflow_api.xcom(TRAIN_DAG, trainings[0]["dag_run_id"], "train")
    tags = mlflow_client.get_run(trained["run_id"]).data.tags
    assert tags["mlops.trigger"] == "drift" and tags["drift_day"] == DRIFTED[0]

    assert second["tasks"]["monitor"] == "success" and second["tasks"]["alert"] == "success", second
    assert monitored(airflow_api, second["run_id"])["verdict"] == "drift"
    assert second["tasks"]["request_retraining"] == "skipped"
    assert "cool-down: a drift-triggered retraining was already requested for 2013-02-09" in \
        task_log(airflow_api, second["run_id"], "request_retraining")
    assert len(drift_trainings(airflow_api)) == 1

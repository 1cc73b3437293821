"""The Airflow UI as operators drive it, in Debian's Chromium (Playwright), against the real test stack.

One module, in order, each test building on the last (shared state, as an operator's day would):

1. log in; every DAG is listed with its tags, and its ``doc_md`` renders (with its link to the guide);
2. a bad date typed into the trigger form's configuration is refused with a visible message, no run;
3. a backfill of three ``etl_flights`` days from the UI's backfill dialog: all runs succeed;
4. a manual ``etl_flights`` run from the form's partition-date field: the partition is on lakeFS ``main``,
   and the task's **lakeFS** extra link opens lakeFS's page of that commit;
5. ``train_flights`` from the trigger form with non-default parameters (window, model family,
   hyperparameters): the run succeeds and MLflow has them; the **MLflow run** and **MLflow model
   version** links open MLflow's pages of that run and version;
6. the gate's challenger event starts ``deploy_flights``: its production approval is answered
   **Approve** in the Required Actions screen; the **Endpoint docs** and **Infra validation report**
   links open the served API's docs and the report on the run;
7. a second deploy, triggered from the form with a model version, is answered **Reject**: nothing moves;
8. ``monitor_flights`` from the form's day field watches the new champion on the manual day: the **Drift
   report** link opens Evidently's report in MLflow, the **lakeFS** link the reports' folder on ``main``.

Set-up that is not under test stays cheap: 18 curated days are written straight to lakeFS (the ETL
adds three by backfill and one by hand: the 21-partition training window + one). Screenshots:
``tests/ui/artifacts/`` (see tests/ui/conftest.py).
"""

from __future__ import annotations

import contextlib
import re
import time
from datetime import date
from typing import Any

import pytest
from mlflow import MlflowClient
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from include.common.metadata import Alias
from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from scripts.airflow_api import AirflowApi
from tests.support.curated_seed import seed_curated_days
from tests.ui.conftest import Browser

ETL, TRAIN, DEPLOY, MONITOR = "etl_flights", "train_flights", "deploy_flights", "monitor_flights"
MODEL = "flights_delay"
SEEDED = (date(2013, 2, 11), date(2013, 2, 28))
BACKFILL = ("2013/03/01", "2013/03/03")  # partition starts, local midnight in the UI's zone (New York)
BACKFILLED = ("2013-03-01", "2013-03-02", "2013-03-03")
MANUAL_DAY = "2013-03-04"
TRAINING_FORM = {"window_days": 21, "model_family": "random_forest", "hyperparameters": {"n_estimators": 60}}
GUIDE = "/mlops-guide/"


@pytest.fixture(scope="module")
def mlflow_client(stack_connections: None) -> MlflowClient:
    return MlflowHook().get_conn()


@pytest.fixture(scope="module")
def lakefs(stack_connections: None) -> LakeFSHook:
    return LakeFSHook(repository="flights")


@pytest.fixture(scope="module")
def history(stack_connections: None, airflow_api: AirflowApi) -> str:
    for dag in (ETL, TRAIN, DEPLOY, MONITOR):
        airflow_api.wait_for_dag(dag)
    return seed_curated_days("flights", *SEEDED)


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """What one step hands to the next (run ids, versions)."""
    return {}


# --- helpers ---------------------------------------------------------------------------------------

def open_trigger_form(ui: Browser, dag_id: str) -> Any:
    ui.open(f"/dags/{dag_id}")
    ui.page.get_by_role("button", name="Trigger").first.click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_text("Run Parameters").wait_for()
    return dialog


def set_json_editor(ui: Browser, editor: Any, text: str) -> None:
    """Replace the content of one of the form's JSON editors (Monaco: typing would auto-close brackets)."""
    editor.locator(".monaco-editor .view-lines").click()
    ui.page.keyboard.press("Control+A")
    ui.page.keyboard.insert_text(text)
    ui.page.keyboard.press("Shift+Control+End")  # anything the editor auto-inserted after the cursor
    ui.page.keyboard.press("Delete")


def pick_datetime(ui: Browser, opener: Any, day: str) -> None:
    """Fill one of the UI's date-time pickers (``day`` as YYYY/MM/DD, local midnight in the UI's zone)."""
    opener.click()
    picker = ui.page.locator("[data-scope=popover][data-part=content]").last
    expect_text(picker, "America/New_York")  # the zone the picker uses: the source's, so a day is a partition
    picker.get_by_placeholder("YYYY/MM/DD").fill(day)
    picker.get_by_placeholder("HH:mm").fill("00:00")
    ui.page.keyboard.press("Escape")


def field(dialog: Any, label: str) -> Any:
    return dialog.get_by_role("group").filter(has_text=label)


def submit_trigger(ui: Browser, dialog: Any, dag_id: str) -> str:
    """Press Trigger; the UI opens the new run's page: return its run id."""
    dialog.get_by_test_id("trigger-dag-submit").click()
    ui.page.wait_for_url(re.compile(rf"/dags/{dag_id}/runs/[^/]+$"))
    return str(ui.page.url.rsplit("/runs/", 1)[1]).replace("%2B", "+").replace("%3A", ":")


def wait_run_in_ui(ui: Browser, api: AirflowApi, dag_id: str, run_id: str, timeout: float) -> str:
    """Wait for the run through the API, then show its page (a screenshot of the finished run)."""
    state = api.wait_for_run(dag_id, run_id, timeout=timeout)
    ui.open(f"/dags/{dag_id}/runs/{run_id}")
    return state


def open_extra_link(ui: Browser, dag_id: str, run_id: str, task_id: str, name: str) -> Any:
    """Open the task instance's Details tab, press its extra link ``name``: return the tab it opened."""
    ui.open(f"/dags/{dag_id}/runs/{run_id}/tasks/{task_id}/details")
    button = ui.page.get_by_role("link", name=name, exact=True)
    button.wait_for()
    with ui.page.context.expect_page() as popup:
        button.click()
    page = popup.value
    page.wait_for_load_state("load")
    # An idle network is only a courtesy: MLflow's pages may keep polling (a 4.5 MB drift report once never
    # went idle within 30 s); the callers wait for the content they check.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_load_state("networkidle", timeout=15_000)
    return page


def lakefs_login(ui: Browser, page: Any) -> None:
    """lakeFS's own login form, if it asks (the first visit of the session). lakeFS is a single-page app: it
    redirects to its login only once its scripts ran, so wait for the form or the repository's page."""
    form = page.locator("#username")
    form.or_(page.get_by_text("Commits", exact=True)).first.wait_for(timeout=60_000)
    if form.is_visible():
        page.get_by_placeholder("Access Key ID").fill(ui.stack.lakefs_access_key_id)
        page.get_by_placeholder("Secret Access Key").fill(ui.stack.lakefs_secret_access_key)
        ui.shot("lakefs-login", page=page)
        page.locator("button[type=submit]").click()
        page.wait_for_url(lambda url: "/auth/login" not in url)
        page.wait_for_load_state("networkidle")


def expect_text(page: Any, text: str, timeout: float = 30_000) -> None:
    page.get_by_text(text).first.wait_for(timeout=timeout)


# --- the flows -------------------------------------------------------------------------------------

def test_login_lists_every_dag_with_tags_and_renders_its_docs(ui: Browser, airflow_api: AirflowApi,
                                                               history: str) -> None:
    page = ui.page  # logged in by the fixture (screenshot 01-login)
    assert "/auth/login" not in page.url, page.url

    dags = airflow_api.call("GET", "/dags", params={"limit": 100})["dags"]
    assert {ETL, TRAIN, DEPLOY, "rollback_flights", "stack_smoke"} <= {dag["dag_id"] for dag in dags}
    ui.open("/dags")
    page.get_by_test_id("dag-card").first.wait_for()
    ui.shot("dag-list")
    cards = page.get_by_test_id("dag-card")
    listed: dict[str, set[str]] = {}
    for index in range(cards.count()):
        card = cards.nth(index)
        dag_id = card.get_by_test_id("dag-id").inner_text().strip()
        listed[dag_id] = {link.inner_text().strip() for link in card.locator("a[href*='/dags?tags=']").all()}
    for dag in dags:
        assert listed.get(dag["dag_id"]) == {tag["name"] for tag in dag["tags"]}, (dag["dag_id"], listed)

    for dag in dags:
        doc = airflow_api.call("GET", f"/dags/{dag['dag_id']}/details")["doc_md"]
        heading = next(line for line in doc.splitlines() if line.startswith("### ")).removeprefix("### ")
        page.goto(f"{ui.base}/dags/{dag['dag_id']}")  # no wait for an idle network: the button is enough
        page.get_by_role("button", name="Dag Docs").click()
        dialog = page.get_by_role("dialog")
        # rendered Markdown: the heading is an <h3>, with its text and without the "###"
        rendered = dialog.locator("h3").first
        rendered.wait_for()
        assert re.sub(r"[`*]", "", heading).strip() in rendered.inner_text(), (dag["dag_id"], heading)
        guide = dialog.locator(f"a[href^='{GUIDE}']")
        assert guide.count() >= 1, f"{dag['dag_id']}: no link to the operator's guide in its docs"
        if dag["dag_id"] in (ETL, DEPLOY):
            ui.shot(f"docs-{dag['dag_id']}")
        if dag["dag_id"] == ETL:  # the link lands on its section of the guide, served by the API server
            href = guide.first.get_attribute("href")
            with page.context.expect_page() as popup:
                guide.first.click()
            section = popup.value
            section.locator(f"h2#{href.split('#', 1)[1]}").wait_for()
            ui.shot("guide-section", page=section)
            section.close()
        page.keyboard.press("Escape")


def test_a_bad_date_is_refused_with_a_visible_message(ui: Browser, airflow_api: AirflowApi) -> None:
    before = len(airflow_api.runs(ETL))
    dialog = open_trigger_form(ui, ETL)
    dialog.get_by_text("Advanced Options").click()
    set_json_editor(ui, field(dialog, "Configuration JSON"), '{"partition_date": "2013-02-30"}')
    dialog.get_by_test_id("trigger-dag-submit").click()
    message = dialog.get_by_text("Invalid input for param partition_date: '2013-02-30' is not a 'date'")
    message.wait_for()
    message.scroll_into_view_if_needed()
    ui.shot("bad-date-refused")
    assert len(airflow_api.runs(ETL)) == before, "a run was created from a refused form"
    ui.page.keyboard.press("Escape")


def test_backfill_from_the_dialog_runs_every_day(ui: Browser, airflow_api: AirflowApi, lakefs: LakeFSHook,
                                                  history: str) -> None:
    airflow_api.unpause(ETL)  # backfill runs stay queued while the DAG is paused (the dialog offers no toggle)
    dialog = open_trigger_form(ui, ETL)
    dialog.get_by_text("Backfill", exact=True).click()
    for day in BACKFILL:
        pick_datetime(ui, dialog.get_by_text("Select date and time").first, day)
    dialog.locator("input[name=max_active_runs]").fill("3")
    expect_text(dialog, "3 runs will be triggered.")
    ui.shot("backfill-dialog")
    dialog.get_by_role("button", name="Run Backfill").click()
    expect_text(ui.page, "Backfill generated")
    expect_text(ui.page, "Backfill in progress")
    ui.shot("backfill-in-progress")

    backfills = airflow_api.call("GET", "/backfills", params={"dag_id": ETL})["backfills"]
    assert len(backfills) == 1, backfills
    airflow_api.wait_for_backfill(backfills[0]["id"], timeout=900)
    runs = [run for run in airflow_api.runs(ETL) if run["run_type"] == "backfill"]
    assert len(runs) == 3 and {run["state"] for run in runs} == {"success"}, runs
    ui.open(f"/dags/{ETL}/runs")
    expect_text(ui.page, runs[-1]["dag_run_id"][:20])
    ui.shot("backfill-runs")
    published = {day.isoformat() for day in _curated_days(lakefs)}
    assert set(BACKFILLED) <= published, sorted(published)


def _curated_days(lakefs: LakeFSHook) -> list[date]:
    from include.common.datasets import partition_days
    from include.common.usecase import load_usecase

    return partition_days(lakefs.repository(), "main", load_usecase("flights"))


def test_manual_run_from_the_partition_date_field_and_its_lakefs_link(
        ui: Browser, airflow_api: AirflowApi, lakefs: LakeFSHook, state: dict[str, Any]) -> None:
    dialog = open_trigger_form(ui, ETL)
    # The form's default logical date is now, past the DAG's end date (the source's last day): such a run
    # has no task at all (seen: "success" in 0.07 s). The operator sets it to the partition's day.
    pick_datetime(ui, dialog.get_by_test_id("datetime-input").first, MANUAL_DAY.replace("-", "/"))
    dialog.locator("#element_partition_date").fill(MANUAL_DAY)
    ui.shot("manual-run-form")
    run_id = submit_trigger(ui, dialog, ETL)
    assert wait_run_in_ui(ui, airflow_api, ETL, run_id, timeout=600) == "success", \
        airflow_api.task_states(ETL, run_id)
    tasks = airflow_api.task_states(ETL, run_id)
    assert tasks == dict.fromkeys(("extract_to_branch", "validate", "commit", "publish", "announce"), "success"), tasks
    assert airflow_api.call("GET", f"/dags/{ETL}/dagRuns/{run_id}")["conf"] == {"partition_date": MANUAL_DAY}
    ui.shot("manual-run-done")
    assert date.fromisoformat(MANUAL_DAY) in _curated_days(lakefs)
    commit_id = airflow_api.xcom(ETL, run_id, "commit")
    state["etl_run"] = run_id

    page = open_extra_link(ui, ETL, run_id, "commit", "lakeFS")
    lakefs_login(ui, page)  # lakeFS asks once, then goes on to the link's page
    assert page.url.endswith(f"/repositories/flights/commits/{commit_id}"), page.url
    expect_text(page, commit_id)
    expect_text(page, f"flights partition {MANUAL_DAY}")  # the commit's message and metadata
    expect_text(page, run_id)
    ui.shot("lakefs-commit", page=page)
    page.close()


def test_train_from_the_form_with_non_default_parameters(
        ui: Browser, airflow_api: AirflowApi, mlflow_client: MlflowClient, state: dict[str, Any]) -> None:
    airflow_api.unpause(DEPLOY)  # the gate's challenger event then starts a deployment (next test)
    dialog = open_trigger_form(ui, TRAIN)
    field(dialog, "Training window").get_by_role("spinbutton").fill(str(TRAINING_FORM["window_days"]))
    field(dialog, "Model family").get_by_role("combobox").click()
    ui.page.get_by_role("option", name=TRAINING_FORM["model_family"]).click()
    set_json_editor(ui, field(dialog, "Hyperparameters"), '{"n_estimators": 60}')
    ui.shot("train-form")
    run_id = submit_trigger(ui, dialog, TRAIN)
    assert wait_run_in_ui(ui, airflow_api, TRAIN, run_id, timeout=900) == "success"
    tasks = airflow_api.task_states(TRAIN, run_id)
    assert tasks == {"pin_data": "success", "train_or_evaluate": "success", "train": "success",
                     "evaluate": "skipped", "evaluation_gate": "success"}, tasks
    ui.shot("train-run-done")
    airflow_api.call("PATCH", f"/dags/{TRAIN}", json={"is_paused": True})  # no data-triggered retraining later

    trained = airflow_api.xcom(TRAIN, run_id, "train")
    run = mlflow_client.get_run(trained["run_id"])
    assert run.data.params["family"] == "random_forest" and run.data.params["model.n_estimators"] == "60"
    assert run.data.tags["airflow_run_id"] == run_id
    state.update(train_run=run_id, mlflow_run=trained["run_id"], version=str(trained["model_version"]))

    page = open_extra_link(ui, TRAIN, run_id, "train", "MLflow run")
    assert page.url.endswith(f"/runs/{trained['run_id']}"), page.url
    expect_text(page, run.info.run_name, timeout=60_000)  # flights-random_forest-<commit>
    expect_text(page, "n_estimators", timeout=60_000)  # the parameters table
    ui.shot("mlflow-run", page=page)
    page.close()
    page = open_extra_link(ui, TRAIN, run_id, "train", "MLflow model version")
    assert page.url.endswith(f"/models/{MODEL}/versions/{trained['model_version']}"), page.url
    expect_text(page, f"Version {trained['model_version']}", timeout=60_000)
    expect_text(page, run.info.run_name)  # its source run
    ui.shot("mlflow-model-version", page=page)
    page.close()


def answer_in_required_actions(ui: Browser, api: AirflowApi, run_id: str, option: str) -> None:
    """Answer deploy_flights' approval in the Required Actions screen as a person would."""
    assert api.wait_for_task(DEPLOY, run_id, "approve_production", {"awaiting_input"}, 900) == "awaiting_input", \
        api.task_states(DEPLOY, run_id)
    time.sleep(5)  # an answer within a second of the question races Airflow's parking of the task (see airflow_api)
    ui.open("/required_actions")
    expect_text(ui.page, "to production?")
    ui.shot(f"required-actions-{option.lower()}")
    ui.open(f"/dags/{DEPLOY}/runs/{run_id}/tasks/approve_production/required_actions")
    expect_text(ui.page, "to production?")
    expect_text(ui.page, "infra validation passed")
    ui.shot(f"approval-{option.lower()}-asked")
    ui.page.get_by_test_id(f"hitl-option-{option}").click()
    expect_text(ui.page, "Response received at")
    ui.shot(f"approval-{option.lower()}-answered")


def test_approve_production_in_the_required_actions_screen(
        ui: Browser, airflow_api: AirflowApi, mlflow_client: MlflowClient, state: dict[str, Any]) -> None:
    deadline = time.monotonic() + 180
    while not (runs := airflow_api.runs(DEPLOY)) and time.monotonic() < deadline:
        time.sleep(2)
    assert runs, "the gate's challenger event started no deploy_flights run"
    run_id = runs[0]["dag_run_id"]
    answer_in_required_actions(ui, airflow_api, run_id, "Approve")
    assert wait_run_in_ui(ui, airflow_api, DEPLOY, run_id, timeout=600) == "success"
    assert set(airflow_api.task_states(DEPLOY, run_id).values()) == {"success"}
    ui.shot("deploy-approved")
    aliases = dict(mlflow_client.get_registered_model(MODEL).aliases)
    assert aliases[Alias.CHAMPION] == state["version"], aliases
    state["deploy_run"] = run_id

    page = open_extra_link(ui, DEPLOY, run_id, "deploy_production", "Endpoint docs")
    expect_text(page, f"Model {MODEL} version {state['version']}.")  # the served Bento's own API docs
    expect_text(page, "/predict")
    ui.shot("endpoint-docs", page=page)
    page.close()
    page = open_extra_link(ui, DEPLOY, run_id, "infra_validation", "Infra validation report")
    assert page.url.endswith(f"/runs/{state['mlflow_run']}/artifacts/serving/infra_validation.json"), page.url
    expect_text(page, "parity", timeout=90_000)  # the report's content, shown by MLflow's artifact viewer
    ui.shot("infra-report", page=page)
    page.close()


def test_reject_production_in_the_required_actions_screen(
        ui: Browser, airflow_api: AirflowApi, mlflow_client: MlflowClient, state: dict[str, Any]) -> None:
    dialog = open_trigger_form(ui, DEPLOY)
    dialog.locator("#element_model_version").fill(state["version"])
    run_id = submit_trigger(ui, dialog, DEPLOY)
    answer_in_required_actions(ui, airflow_api, run_id, "Reject")
    assert wait_run_in_ui(ui, airflow_api, DEPLOY, run_id, timeout=600) == "success"
    tasks = airflow_api.task_states(DEPLOY, run_id)
    assert tasks["approve_production"] == "success" and tasks["deploy_production"] == "skipped", tasks
    ui.shot("deploy-rejected")
    assert dict(mlflow_client.get_registered_model(MODEL).aliases)[Alias.CHAMPION] == state["version"]


def test_monitor_a_day_from_the_form_and_open_its_drift_report(
        ui: Browser, airflow_api: AirflowApi, state: dict[str, Any]) -> None:
    airflow_api.unpause(MONITOR)
    dialog = open_trigger_form(ui, MONITOR)
    # like the ETL: the default logical date (now) is past the DAG's end date, so the day is set twice
    pick_datetime(ui, dialog.get_by_test_id("datetime-input").first, MANUAL_DAY.replace("-", "/"))
    dialog.locator("#element_day").fill(MANUAL_DAY)
    ui.shot("monitor-form")
    run_id = submit_trigger(ui, dialog, MONITOR)
    assert wait_run_in_ui(ui, airflow_api, MONITOR, run_id, timeout=900) == "success", \
        airflow_api.task_states(MONITOR, run_id)
    airflow_api.call("PATCH", f"/dags/{MONITOR}", json={"is_paused": True})
    tasks = airflow_api.task_states(MONITOR, run_id)
    assert tasks["wait_for_partition"] == "success" and tasks["monitor"] == "success", tasks
    watched = airflow_api.xcom(MONITOR, run_id, "monitor")
    assert watched["day"] == MANUAL_DAY and str(watched["champion"]["version"]) == state["version"], watched
    ui.shot("monitor-run-done")

    page = open_extra_link(ui, MONITOR, run_id, "monitor", "Drift report")
    assert page.url.endswith(f"/runs/{watched['mlflow_run_id']}/artifacts/reports/drift.html"), page.url
    report = page.frame_locator("iframe").first  # MLflow's artifact viewer shows the HTML in a frame
    report.get_by_text(watched["drifted_columns"][0] if watched["drifted_columns"] else "wind_speed").first \
        .wait_for(timeout=90_000)  # a monitored column's row, drawn by Evidently's scripts
    ui.shot("drift-report", page=page)
    page.close()
    page = open_extra_link(ui, MONITOR, run_id, "monitor", "lakeFS")
    lakefs_login(ui, page)
    expect_text(page, "drift.html", timeout=60_000)  # the day's folder: reports, summary, trend
    expect_text(page, "summary.json")
    ui.shot("monitoring-lakefs", page=page)
    page.close()

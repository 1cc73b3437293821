"""The training operators' branches that otherwise only the scheduler reaches (asset-triggered
versus manual runs, retries, gate verdicts), run in-process with a stub context, an in-memory
lakeFS and the service functions replaced."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowSkipException

from include.common.metadata import Alias, AssetExtra, RunKey, TagKey
from include.common.usecase import load_usecase
from include.training.gate import HoldoutData, ModelScore, evaluate_gate
from include.training.service import PinnedData
from include.training.tracking import LoggedRun
from include.training.trainer import RunSettings
from mlops.assets import challenger_asset
from mlops.operators.base import InputError
from mlops.operators.training import (
    EvaluationGateOperator,
    PinTrainingDataOperator,
    TrainingOperator,
    TrainModelOperator,
)
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS, FakeMlflowHook, asset_event, stub_context

USECASE = load_usecase("flights")  # trains on >= 21 days: 14 to train + 7 held out
RUN_ID = "manual__2013-04-01T00:00:00+00:00"
FIRST = date(2013, 1, 1)


def days(count: int) -> list[date]:
    return [FIRST + timedelta(days=d) for d in range(count)]


def partition_days_by_commit(monkeypatch: pytest.MonkeyPatch, lakefs: FakeLakeFS,
                             available: dict[str, list[date]]) -> list[str]:
    """``include.common.datasets.partition_days`` answers from ``available`` (commit -> days); records the refs."""
    asked: list[str] = []

    def partition_days(repository: Any, ref: str, usecase: Any) -> list[date]:
        assert repository.fake is lakefs
        asked.append(ref)
        return available[ref]

    monkeypatch.setattr("include.common.datasets.partition_days", partition_days)
    return asked


def pin(**arguments: Any) -> PinTrainingDataOperator:
    return PinTrainingDataOperator(task_id="pin_data", usecase="flights",
                                   **{"window_days": "56", "window_end": "None", "data_commit": "None", **arguments})


def training_context(task_id: str, events: list[Any] | None = None, run_type: str = "manual") -> dict[str, Any]:
    triggering = {"curated_flights": events} if events else {}
    return stub_context(task_id=task_id, dag_id="train_flights", run_id=RUN_ID, run_type=run_type,
                        triggering_asset_events=triggering)


def test_a_run_triggered_only_by_backfill_events_is_skipped_before_reading_anything(
        lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = partition_days_by_commit(monkeypatch, lakefs, {})
    events = [asset_event("c0001", run_id="backfill__2013-01-02", timestamp=1),
              asset_event("c0001", run_id="scheduled__x", run_type="backfill", timestamp=2)]
    with pytest.raises(AirflowSkipException, match="all 2 triggering asset events come from backfills"):
        pin().execute(training_context("pin_data", events, run_type="asset_triggered"))
    assert asked == []


def test_too_few_days_skip_an_asset_triggered_run(lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    partition_days_by_commit(monkeypatch, lakefs, {lakefs.head_commit("main"): days(20)})
    events = [asset_event(lakefs.head_commit("main"))]
    with pytest.raises(AirflowSkipException, match=r"20 partition days .* training needs at least 21.*no training yet"):
        pin().execute(training_context("pin_data", events, run_type="asset_triggered"))


def test_too_few_days_fail_a_manual_run_naming_the_fix(lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    partition_days_by_commit(monkeypatch, lakefs, {lakefs.head_commit("main"): days(20)})
    with pytest.raises(InputError, match=r"needs at least 21 .*load more days with the ETL .*or widen window_days"):
        pin().execute(training_context("pin_data"))


def test_an_unknown_data_commit_fails_naming_it(lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    partition_days_by_commit(monkeypatch, lakefs, {})
    with pytest.raises(InputError, match="lakeFS has no reference 'deadbeef' in repository 'flights'"):
        pin(data_commit="deadbeef").execute(training_context("pin_data"))


def test_the_newest_event_commit_wins_over_main(lakefs: FakeLakeFS, monkeypatch: pytest.MonkeyPatch) -> None:
    older = lakefs._main_gets({"a": b"1"})
    newer = lakefs._main_gets({"b": b"2"})
    head = lakefs._main_gets({"c": b"3"})  # main moved on after the events
    asked = partition_days_by_commit(monkeypatch, lakefs, {older: days(21), newer: days(30), head: days(40)})
    events = [asset_event(newer, timestamp=2), asset_event(older, timestamp=1), asset_event(None, timestamp=3)]
    ctx = training_context("pin_data", events, run_type="asset_triggered")
    pinned = PinnedData.from_dict(pin().execute(ctx))
    assert (pinned.commit_id, pinned.reference, asked) == (newer, newer, [newer])
    assert (pinned.window_start, pinned.window_end, pinned.days) == (FIRST, date(2013, 1, 30), 30)
    assert ctx["ti"].xcoms["lakefs_url"] == lakefs.commit_url(newer)


def test_data_commit_wins_over_events_and_main_is_the_default(lakefs: FakeLakeFS,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    older = lakefs._main_gets({"a": b"1"})
    head = lakefs._main_gets({"b": b"2"})
    partition_days_by_commit(monkeypatch, lakefs, {older: days(25), head: days(60)})
    chosen = pin(data_commit=older).execute(training_context("pin_data", [asset_event(head)]))
    assert (chosen["commit_id"], chosen["days"]) == (older, 25)
    by_default = pin(window_days="30", window_end="2013-02-20").execute(training_context("pin_data"))
    assert (by_default["commit_id"], by_default["reference"]) == (head, "main")
    assert (by_default["window_start"], by_default["window_end"]) == ("2013-01-22", "2013-02-20")


PINNED = PinnedData("flights", "c0001", "main", date(2013, 1, 1), date(2013, 2, 25), 56).to_dict()


def train_operator(**arguments: Any) -> TrainModelOperator:
    return TrainModelOperator(task_id="train", usecase="flights", pinned=PINNED,
                              **{"model_family": "hist_gradient_boosting", "seed": "42", "hyperparameters": "{}",
                                 "shuffle_labels": "False", **arguments})


@pytest.fixture
def mlflow(monkeypatch: pytest.MonkeyPatch) -> FakeMlflowHook:
    fake = FakeMlflowHook()
    monkeypatch.setattr(TrainingOperator, "mlflow", lambda self: fake)
    return fake


def must_not_run(name: str) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{name} must not run")
    return fail


def test_a_retry_reuses_the_finished_run_and_trains_nothing(lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[dict[str, str]] = []

    def find_finished_run(client: Any, usecase: Any, tags: dict[str, str]) -> LoggedRun:
        assert client is mlflow.client
        searched.append(tags)
        return LoggedRun("r1", "5", "flights_delay", "3")

    monkeypatch.setattr("include.training.tracking.find_finished_run", find_finished_run)
    for name in ("include.training.tracking.fail_unfinished_runs", "include.training.service.read_window",
                 "include.training.service.train_and_log"):
        monkeypatch.setattr(name, must_not_run(name))
    ctx = training_context("train")
    result = train_operator().execute(ctx)
    assert searched == [{RunKey.RUN_ID: RUN_ID, RunKey.TASK_ID: "train", TagKey.KIND: "training"}]
    assert result == {"run_id": "r1", "experiment_id": "5", "model_name": "flights_delay", "model_version": "3",
                      "commit_id": "c0001", "run_url": "http://mlflow.test/#/experiments/5/runs/r1"}
    assert ctx["ti"].xcoms["mlflow_model_url"] == "http://mlflow.test/#/models/flights_delay/versions/3"


def test_without_a_finished_run_earlier_tries_are_failed_and_the_model_trained(
        lakefs: FakeLakeFS, mlflow: FakeMlflowHook, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: dict[str, Any] = {}

    def fail_unfinished_runs(client: Any, usecase: Any, tags: dict[str, str]) -> list[str]:
        calls["failed"] = tags
        return ["crashed"]

    def read_window(repository: Any, usecase: Any, commit_id: str, settings: RunSettings) -> str:
        calls["read"] = (commit_id, settings)
        return "the window's rows"

    monkeypatch.setattr("include.training.tracking.find_finished_run",  # a run without a registered version
                        lambda client, usecase, tags: LoggedRun("crashed", "5", "flights_delay", None))
    monkeypatch.setattr("include.training.tracking.fail_unfinished_runs", fail_unfinished_runs)
    monkeypatch.setattr("include.training.service.read_window", read_window)

    def train_and_log(client: Any, usecase: Any, settings: RunSettings, frame: Any, data: Any,
                      tags: dict[str, str], code_version: str) -> LoggedRun:
        assert frame == "the window's rows"
        calls["train"] = (settings, data, tags, code_version)
        return LoggedRun("r2", "5", "flights_delay", "4")

    monkeypatch.setattr("include.training.service.train_and_log", train_and_log)
    result = train_operator(seed="7").execute(training_context("train"))
    assert result["run_id"] == "r2" and result["model_version"] == "4"
    assert calls["failed"] == {RunKey.RUN_ID: RUN_ID, RunKey.TASK_ID: "train"}
    settings, data, tags, code_version = calls["train"]
    assert calls["read"] == ("c0001", settings) and data.commit_id == "c0001"
    assert (settings.seed, settings.window_end, settings.hyperparameters["max_iter"]) == (7, date(2013, 2, 25), 200)
    assert tags[RunKey.DAG_ID] == "train_flights" and RunKey.CODE_VERSION not in tags and code_version == "abc123"


def test_hyperparameters_that_are_not_json_fail_before_mlflow_is_touched(lakefs: FakeLakeFS,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TrainingOperator, "mlflow", must_not_run("MLflow"))
    expected = "parameter 'hyperparameters' must be a JSON object, not '{max_iter: 3}'"
    with pytest.raises(InputError, match=re.escape(expected)):
        train_operator(hyperparameters="{max_iter: 3}").execute(training_context("train"))


GATE = USECASE.require_training().gate
HOLDOUT = HoldoutData("flights", "c0001", "2013-02-19", "2013-02-25", 6000)
TRAINED = {"run_id": "r1", "experiment_id": "5", "model_name": "flights_delay", "model_version": "3"}
ASSET = challenger_asset(USECASE)


@pytest.fixture
def gate_calls(lakefs: FakeLakeFS, mlflow: FakeMlflowHook, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {"aliases": [], "notifications": [], "decisions": []}
    settings = RunSettings("flights", date(2013, 1, 1), date(2013, 2, 25), 7, "hist_gradient_boosting")
    monkeypatch.setattr("include.training.tracking.run_settings", lambda client, run_id: settings)
    monkeypatch.setattr("include.training.tracking.log_decision",
                        lambda client, logged, decision: calls["decisions"].append(decision.verdict))
    monkeypatch.setattr("include.common.registry.set_alias",
                        lambda client, model, alias, version: calls["aliases"].append((model, alias, version)))
    monkeypatch.setattr("mlops.notifications.gate.notify_gate_rejection",
                        lambda context, **kwargs: calls["notifications"].append(kwargs) or [])
    return calls


def decide(monkeypatch: pytest.MonkeyPatch, challenger: dict[str, float], champion: dict[str, float]) -> None:
    decision = evaluate_gate(ModelScore("3", challenger, {}), ModelScore("2", champion, {}), GATE, HOLDOUT)
    monkeypatch.setattr("include.training.service.gate_decision",
                        lambda client, repository, usecase, settings, logged, commit_id: decision)


def gate_operator() -> EvaluationGateOperator:
    return EvaluationGateOperator(task_id="evaluation_gate", usecase="flights", pinned=PINNED, trained=TRAINED,
                                  outlets=[ASSET])


def test_a_rejected_challenger_is_skipped_with_a_notification_and_no_alias(
        gate_calls: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    decide(monkeypatch, {"roc_auc": 0.55}, {"roc_auc": 0.70})
    ctx = training_context("evaluation_gate")
    with pytest.raises(AirflowSkipException, match="challenger rejected, promotion skipped: min roc_auc"):
        gate_operator().execute(ctx)
    [notification] = gate_calls["notifications"]
    assert notification["verdict"] == "flights_delay version 3: REJECT (2 checks, champion: version 2)"
    assert [r.split(":")[0] for r in notification["reasons"]] == ["min roc_auc", "roc_auc vs champion"]
    assert notification["mlflow_run_url"] == "http://mlflow.test/#/experiments/5/runs/r1"
    assert gate_calls["decisions"] == ["reject"] and gate_calls["aliases"] == []
    assert ASSET not in ctx["outlet_events"]


def test_a_passing_challenger_gets_the_alias_and_the_asset_event(gate_calls: dict[str, Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    decide(monkeypatch, {"roc_auc": 0.72}, {"roc_auc": 0.70})
    ctx = training_context("evaluation_gate")
    result = gate_operator().execute(ctx)
    assert result == {"verdict": "pass", "model_name": "flights_delay", "model_version": "3"}
    assert gate_calls["aliases"] == [("flights_delay", Alias.CHALLENGER, "3")] and gate_calls["notifications"] == []
    assert gate_calls["decisions"] == ["pass"]
    assert ctx["outlet_events"][ASSET].extra == {AssetExtra.MODEL_NAME: "flights_delay",
                                                 AssetExtra.MODEL_VERSION: "3", AssetExtra.RUN_ID: "r1"}
    assert Alias.CHAMPION not in {alias for _, alias, _ in gate_calls["aliases"]}


def drift_event(day: str, commit_id: str, *, timestamp: int = 5, run_type: str = "manual",
                allow_backfill: bool = False, run_id: str = "manual__m") -> Any:
    return asset_event(commit_id, run_id=run_id, timestamp=timestamp, run_type=run_type, asset="drift_flights",
                       extra={AssetExtra.DAY: day, AssetExtra.ALLOW_BACKFILL: allow_backfill})


def drift_context(events: list[Any]) -> dict[str, Any]:
    return stub_context(task_id="pin_data", dag_id="train_flights", run_id=RUN_ID, run_type="asset_triggered",
                        triggering_asset_events={"drift_flights": events})


def test_a_drift_triggered_run_within_the_cooldown_is_skipped_saying_why(
        lakefs: FakeLakeFS, mlflow: FakeMlflowHook, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = partition_days_by_commit(monkeypatch, lakefs, {})
    monkeypatch.setattr("include.training.service.drift_triggered_days", lambda client, usecase: [date(2013, 2, 9)])
    with pytest.raises(AirflowSkipException, match=r"drift on 2013-02-12 requested a retraining, but cool-down: a "
                                                   r"drift-triggered retraining was already requested for 2013-02-09"):
        pin().execute(drift_context([drift_event("2013-02-12", lakefs.head_commit("main"))]))
    assert asked == []


def test_a_drift_triggered_run_after_the_cooldown_trains_on_the_events_commit(
        lakefs: FakeLakeFS, mlflow: FakeMlflowHook, monkeypatch: pytest.MonkeyPatch) -> None:
    head = lakefs.head_commit("main")
    partition_days_by_commit(monkeypatch, lakefs, {head: days(41)})
    monkeypatch.setattr("include.training.service.drift_triggered_days", lambda client, usecase: [date(2013, 1, 2)])
    context = drift_context([drift_event("2013-02-09", head)])
    pinned = pin().execute(context)
    assert pinned["commit_id"] == head and pinned["window_end"] == "2013-02-10"
    tags = TrainingOperator(task_id="train", usecase="flights").run_tags(context)
    assert tags[TagKey.TRIGGER] == "drift" and tags[TagKey.DRIFT_DAY] == "2013-02-09"


def test_drift_from_a_backfill_counts_only_when_it_asked(lakefs: FakeLakeFS, mlflow: FakeMlflowHook,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    head = lakefs.head_commit("main")
    partition_days_by_commit(monkeypatch, lakefs, {head: days(41)})
    monkeypatch.setattr("include.training.service.drift_triggered_days", lambda client, usecase: [])
    quiet = drift_event("2013-02-09", head, run_type="backfill", run_id="backfill__x")
    with pytest.raises(AirflowSkipException, match="all 1 triggering asset events come from backfills"):
        pin().execute(drift_context([quiet]))
    asked = drift_event("2013-02-09", head, run_type="backfill", run_id="backfill__x", allow_backfill=True)
    assert pin().execute(drift_context([asked]))["commit_id"] == head

"""What every stage's operators share: the use case they act for, how they skip, how they read
templated parameters and the asset events that triggered their run."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseBranchOperator, BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, DownstreamTasksSkipped

from mlops.hooks.lakefs import LakeFSHook

if TYPE_CHECKING:
    from include.common.usecase import UseCase


class InputError(AirflowFailException):
    """A run's parameters or the use case's settings are invalid: the task fails at once, no retry."""


class UseCaseOperator(BaseOperator):
    """An operator acting for one use case (``include/usecases/<name>.yaml``) on its lakeFS repository."""

    def __init__(self, *, usecase: str, lakefs_conn_id: str = LakeFSHook.default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.usecase = usecase
        self.lakefs_conn_id = lakefs_conn_id

    def load_usecase(self) -> UseCase:
        from include.common.usecase import load_usecase

        return load_usecase(self.usecase)

    def lakefs(self, usecase: UseCase) -> LakeFSHook:
        return LakeFSHook(self.lakefs_conn_id, repository=usecase.lakefs_repository)

    def skip(self, reason: str) -> NoReturn:
        """Skip this task (and what depends on it), saying why in the task log."""
        self.log.warning("skipping: %s", reason)
        raise AirflowSkipException(reason)

    def live_asset_events(self, context: Any, consequence: str) -> list[Any]:
        """The asset events behind this run, oldest first; skips when every one comes from a backfill
        (a history load must not start one downstream run per day)."""
        events = triggering_events(context)
        if events and all(from_backfill(event) for event in events):
            self.skip(f"all {len(events)} triggering asset events come from backfills: {consequence}")
        return events


class ChooseBranchOperator(BaseBranchOperator):
    """Follows the task id that ``choose`` returns for one templated value (the other branches are skipped).

    What ``BranchPythonOperator`` does for such a callable, without importing the standard provider's
    python-operator module at parse time (about 25 ms of every parse of a DAG file that uses it).
    """

    template_fields: Sequence[str] = ("value",)

    def __init__(self, *, choose: Callable[[str], str], value: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choose = choose
        self.value = value

    def choose_branch(self, context: Any) -> str:
        return self.choose(self.value)


def skip_downstream(operator: BaseOperator, context: Any, result: Any) -> NoReturn:
    """End ``operator``'s ``execute`` as a success whose direct downstream tasks are skipped: the scheduler
    never starts them (no task process). ``result`` is pushed as the return value first."""
    context["ti"].xcom_push(key="return_value", value=result)
    raise DownstreamTasksSkipped(tasks=list(operator.downstream_task_ids))  # type: ignore[no-untyped-call]


def optional_text(value: Any) -> str | None:
    """A rendered template's value, where an empty parameter renders as ``""`` or ``"None"``."""
    text = "" if value is None else str(value).strip()
    return None if text in ("", "None") else text


def as_bool(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def triggering_events(context: Any) -> list[Any]:
    """Every asset event behind an asset-triggered run (there may be several per run), oldest first."""
    accessor = context.get("triggering_asset_events") or {}
    events = [event for asset_events in accessor.values() for event in asset_events]
    return sorted(events, key=lambda event: event.timestamp)


def from_backfill(event: Any) -> bool:
    from include.common.metadata import AssetExtra

    extra = event.extra or {}
    if extra.get(AssetExtra.ALLOW_BACKFILL) is True:
        return False  # a backfill that asked for its event to count (e.g. drift with retrain_in_backfill)
    return extra.get(AssetExtra.RUN_TYPE) == "backfill" or str(event.source_run_id or "").startswith("backfill__")


def drift_days(events: list[Any], usecase: str) -> list[date]:
    """The monitored days of ``drift_<usecase>`` events among ``events`` (monitoring requested a retraining)."""
    from include.common.metadata import AssetExtra, drift_asset_name

    name = drift_asset_name(usecase)
    return sorted(date.fromisoformat(str(e.extra[AssetExtra.DAY])) for e in events
                  if e.asset.name == name and (e.extra or {}).get(AssetExtra.DAY))

"""Rolling a use case's curated data back: lakeFS ``main`` gets the content of an earlier commit again,
as a **new** commit (history kept: the undone commits stay in ``main``'s log and can be restored the
same way), with who asked and why in its metadata.

How: a rollback branch from ``main``; every object of the data (curated partitions and their
validation reports) that differs from the target commit is copied from it (changed or removed since)
or deleted (added since); the branch is committed and merged into ``main``. The merge commit is what
consumers are told about (the curated Asset event), so the next training pins the rolled-back data.

Monitoring reports (``monitoring/<name>/<day>/``) are results computed from the data, like MLflow
runs: a rollback keeps them. The days whose partition it changed and that were already monitored are
monitored again (``remonitor_requests``), so monitoring sees the rolled-back data too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from include.common.metadata import AssetExtra, CommitKey
from include.common.params import REASON_MAX_LENGTH, REASON_MIN_LENGTH, ParameterError
from include.common.usecase import UseCase

# lakeFS diff types, from ``ref(main).diff(target, type="two_dot")`` (left: main, right: the target)
ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# results computed from the data, kept by a rollback (``UseCase.monitoring_prefix``)
KEPT_PREFIXES = ("monitoring/",)


@dataclass(frozen=True)
class RollbackPlan:
    """What makes a branch equal to the target commit: paths to copy from it, paths to delete."""

    restore: tuple[str, ...]
    delete: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.restore and not self.delete


def plan_rollback(changes: Iterable[tuple[str, str]]) -> RollbackPlan:
    """The plan from a two-dot diff of ``main`` (left) against the target (right): ``(type, path)`` pairs.

    ``added`` (the target has it, main does not: deleted since) and ``changed`` paths are restored from
    the target; ``removed`` (main has it, the target does not: added since) are deleted. Paths under
    ``KEPT_PREFIXES`` (monitoring reports) are left as they are.
    """
    restore: list[str] = []
    delete: list[str] = []
    for kind, path in changes:
        if path.startswith(KEPT_PREFIXES):
            continue
        if kind in (ADDED, CHANGED):
            restore.append(path)
        elif kind == REMOVED:
            delete.append(path)
        else:
            raise ValueError(f"unexpected lakeFS diff entry {kind!r} for {path!r}")
    return RollbackPlan(tuple(sorted(restore)), tuple(sorted(delete)))


def check_reason(reason: str | None) -> str:
    """The reason a rollback gives (recorded on the commit), or ``ParameterError`` naming ``reason``."""
    text = (reason or "").strip()
    if text in ("", "None") or len(text) < REASON_MIN_LENGTH:
        raise ParameterError("reason", f"say why main is rolled back (at least {REASON_MIN_LENGTH} characters); "
                                       "it is recorded on the rollback commit")
    if len(text) > REASON_MAX_LENGTH:
        raise ParameterError("reason", f"{len(text)} characters; at most {REASON_MAX_LENGTH}")
    return text


def rollback_metadata(usecase: UseCase, run: dict[str, str], target: str, previous_head: str, reason: str,
                      requested_by: str, plan: RollbackPlan) -> dict[str, str]:
    """Metadata of the rollback commit and of its merge into ``main``: the run, the target, who and why."""
    return {**run, CommitKey.USECASE: usecase.name, CommitKey.ROLLBACK_TO: target,
            CommitKey.ROLLBACK_FROM: previous_head, CommitKey.ROLLBACK_REASON: reason,
            CommitKey.ROLLBACK_REQUESTED_BY: requested_by, CommitKey.ROLLBACK_RESTORED: str(len(plan.restore)),
            CommitKey.ROLLBACK_DELETED: str(len(plan.delete))}


def rollback_title(usecase: UseCase, target: str, requested_by: str) -> str:
    return f"Roll back {usecase.name} on main to {target[:12]} (requested by {requested_by})"


def rollback_announcement(usecase: UseCase, merged: str, target: str, run_type: str) -> dict[str, str]:
    """The ``curated_<name>`` Asset event's extra after a rollback: consumers read ``commit_id`` as usual."""
    return {AssetExtra.LAKEFS_REPOSITORY: usecase.lakefs_repository, AssetExtra.COMMIT_ID: merged,
            AssetExtra.ROLLBACK_TO: target, AssetExtra.RUN_TYPE: run_type}


def changed_partitions(usecase: UseCase, paths: Iterable[str]) -> list[date]:
    """The partition starts whose curated object is among ``paths`` (a rollback's changes), sorted."""
    pattern = re.compile(rf"^{re.escape(usecase.dataset_prefix)}/{re.escape(usecase.partition_column)}="
                         r"(\d{4}-\d{2}-\d{2})/")
    return sorted({date.fromisoformat(found.group(1)) for path in paths if (found := pattern.match(path))})


def remonitor_requests(usecase: UseCase, days: Iterable[date], rollback_run_id: str) -> list[dict[str, object]]:
    """One ``monitor_<name>`` trigger per day (keyword arguments of a mapped ``TriggerDagRunOperator``): a
    manual run with the ``day`` param and a run id derived from the rollback's run, so a retry triggers
    nothing twice."""
    return [{"conf": {"day": day.isoformat()},
             "trigger_run_id": f"remonitor__{day.isoformat()}__{rollback_run_id}"[:250]} for day in days]

"""Operators of ``rollback_data_<use case>``: lakeFS ``main`` gets an earlier commit's content again, as a new
commit that records who asked and why; the curated Asset event tells training that the data changed, and
the days already monitored whose partition changed are monitored again. The plan and the metadata live in
``include/etl/rollback.py``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops.links import LakeFSLink, push_link
from mlops.operators.base import InputError, UseCaseOperator, optional_text


class RollbackDataOperator(UseCaseOperator):
    """Roll ``main`` back to ``to_commit`` (a commit of its history) on a rollback branch merged into ``main``.

    A retry after the merge finds this run's rollback on ``main`` and reports it again; a ``to_commit``
    that is unknown, not in ``main``'s history or already ``main``'s content fails at once, naming it.
    """

    template_fields: Sequence[str] = ("to_commit", "reason")
    operator_extra_links = (LakeFSLink(),)

    def __init__(self, *, to_commit: Any, reason: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.to_commit = to_commit
        self.reason = reason

    def execute(self, context: Any) -> dict[str, Any]:
        from lakefs.exceptions import BadRequestException, NotFoundException

        from include.common.lineage import branch_name
        from include.common.metadata import CommitKey
        from include.common.params import ParameterError
        from include.etl.publishing import run_type_name
        from include.etl.rollback import (
            changed_partitions,
            check_reason,
            plan_rollback,
            rollback_announcement,
            rollback_metadata,
            rollback_title,
        )
        from mlops.run_context import metadata_from_context

        usecase = self.load_usecase()
        hook = self.lakefs(usecase)
        dag_run = context["dag_run"]
        reference = optional_text(self.to_commit)
        try:
            reason = check_reason(optional_text(self.reason))
            if reference is None:
                raise ParameterError("to_commit", "name the commit of main to roll back to")
        except ParameterError as error:
            raise InputError(f"{usecase.name}: {error}") from None
        requested_by = str(getattr(dag_run, "triggering_user_name", None) or "unknown")
        try:
            target = hook.resolve_commit(reference)
        except (NotFoundException, BadRequestException):
            raise InputError(f"{usecase.name}: parameter 'to_commit': lakeFS repository {hook.repository_id!r} has "
                             f"no commit {reference!r}") from None
        done = self.earlier_try(hook, dag_run.run_id, target)
        if done is not None:
            self.log.info("this run already rolled main back to %s: merge %s", target, done)
            merged = done
            previous = hook.commit_metadata(done)[CommitKey.ROLLBACK_FROM]
        else:
            if not hook.in_history(target, "main"):
                raise InputError(f"{usecase.name}: parameter 'to_commit': {reference} ({target}) is not a commit of "
                                 f"main's history in {hook.repository_id!r}")
            previous = hook.head_commit("main")
            branch = branch_name(f"rollback-{usecase.name}", dag_run.run_id)
            hook.recreate_branch(branch, source="main")
            plan = plan_rollback(hook.diff(branch, target))
            if plan.empty:
                hook.delete_branch(branch)
                raise InputError(f"{usecase.name}: parameter 'to_commit': main ({previous}) already has the content "
                                 f"of {target}; nothing to roll back")
            for path in plan.restore:
                hook.copy_from(target, path, branch)
            hook.delete_objects(branch, list(plan.delete))
            metadata = rollback_metadata(usecase, metadata_from_context(context), target, previous, reason,
                                         requested_by, plan)
            title = rollback_title(usecase, target, requested_by)
            commit_id = hook.commit(branch, f"{title}: {reason}", metadata)
            merged = hook.merge(branch, "main", title, {**metadata, CommitKey.SOURCE_COMMIT: commit_id})
            hook.delete_branch(branch)
            self.log.info("rolled %s main back from %s to the content of %s: merge %s (%d restored, %d deleted)",
                          usecase.name, previous, target, merged, len(plan.restore), len(plan.delete))
        push_link(context, LakeFSLink, hook.commit_url(merged))
        extra = rollback_announcement(usecase, merged, target, run_type_name(dag_run.run_type))
        for asset in self.outlets:
            context["outlet_events"][asset].extra = extra
        changed = changed_partitions(usecase, (path for _, path in hook.diff(previous, merged)))
        return {**extra, "reason": reason, "requested_by": requested_by, "rollback_from": previous,
                "changed_partitions": [day.isoformat() for day in changed]}

    @staticmethod
    def earlier_try(hook: Any, run_id: str, target: str) -> str | None:
        """The merge an earlier try of this run put on ``main`` (its metadata names the run and the target; the
        rollback branch's own commit is in ``main``'s history only once merged, and carries no source commit)."""
        from include.common.metadata import CommitKey, RunKey

        found: str | None = hook.find_commit({RunKey.RUN_ID: run_id, CommitKey.ROLLBACK_TO: target}, depth=50)
        if found is None:
            return None
        return found if CommitKey.SOURCE_COMMIT in hook.commit_metadata(found) else None


class StaleMonitoringOperator(UseCaseOperator):
    """The days a rollback changed that ``monitor_<name>`` had already reported on (their report, kept on
    ``main``, describes the undone data), as ``TriggerDagRunOperator`` keyword arguments for a re-run each.

    Days whose partition the rollback removed are not re-monitored (there is nothing to monitor); their
    report stays as the record of what was observed, like the MLflow run.
    """

    template_fields: Sequence[str] = ("rolled_back",)

    def __init__(self, *, rolled_back: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rolled_back = rolled_back

    def execute(self, context: Any) -> list[dict[str, object]]:
        from datetime import date

        from include.etl.rollback import remonitor_requests

        usecase = self.load_usecase()
        hook = self.lakefs(usecase)
        merged = self.rolled_back["commit_id"]
        stale: list[date] = []
        removed: list[date] = []
        for day in map(date.fromisoformat, self.rolled_back["changed_partitions"]):
            if hook.object_checksum(merged, f"{usecase.monitoring_prefix(day)}/summary.json") is None:
                continue  # never monitored: its scheduled run will read the rolled-back data
            (stale if hook.object_checksum(merged, usecase.partition_path(day)) is not None else removed).append(day)
        if removed:
            self.log.info("the reports of %s stay under monitoring/%s/ (their partitions were rolled back away)",
                          [d.isoformat() for d in removed], usecase.name)
        if not stale:
            self.log.info("no monitored day changed: nothing to monitor again")
        else:
            self.log.info("monitoring again %s (monitor_%s runs; they wait while that DAG is paused)",
                          [d.isoformat() for d in stale], usecase.name)
        return remonitor_requests(usecase, stale, context["dag_run"].run_id)

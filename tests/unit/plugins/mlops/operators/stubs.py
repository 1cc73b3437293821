"""In-memory stand-ins for what an operator's ``execute`` touches: the task context, the lakeFS hook
and the MLflow hook. Every fake method exists on the real hook with the same parameters (a test
checks it), so operator tests exercise the operators' own branches against the hooks' real API."""

from __future__ import annotations

import hashlib
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lakefs.exceptions import ConflictException, NotFoundException

from include.common.metadata import CommitKey, RunKey

ENDPOINT = "http://lakefs.test"


class FakeTaskInstance:
    def __init__(self, task_id: str) -> None:
        self.task_id = task_id
        self.xcoms: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def stub_context(*, task_id: str, dag_id: str = "etl_flights", run_id: str = "manual__2013-03-05T10:00:00+00:00",
                 run_type: str = "manual", triggering_asset_events: dict[Any, list[Any]] | None = None,
                 params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The keys of Airflow's task context that the operators read."""
    return {"ti": FakeTaskInstance(task_id),
            "dag_run": SimpleNamespace(run_id=run_id, run_type=run_type, dag_id=dag_id, triggering_user_name="admin"),
            "params": params or {}, "logical_date": None, "data_interval_start": None, "data_interval_end": None,
            "outlet_events": defaultdict(lambda: SimpleNamespace(extra={})),
            "triggering_asset_events": triggering_asset_events or {}}


def asset_event(commit_id: str | None, *, run_id: str = "scheduled__2013-03-05T00:00:00+00:00", timestamp: int = 1,
                run_type: str | None = None, asset: str = "curated_flights",
                extra: dict[str, Any] | None = None) -> SimpleNamespace:
    """An Asset event as the ETL's announce task (or monitoring's request_retraining: ``asset="drift_flights"``
    and its ``extra``) emits it (``run_type`` in its extra)."""
    values = {key: value for key, value in (("commit_id", commit_id), ("run_type", run_type)) if value is not None}
    return SimpleNamespace(source_run_id=run_id, timestamp=timestamp, extra={**values, **(extra or {})},
                           asset=SimpleNamespace(name=asset))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Commit:
    id: str
    message: str
    metadata: dict[str, str]
    objects: dict[str, bytes]


@dataclass
class FakeLakeFS:
    """One lakeFS repository in memory: branches with staged objects, commits with metadata, and a
    ``main`` whose log records merges. ``conflict_on_merge`` makes the next merge raise lakeFS's
    ``ConflictException`` (another run changed the same path on ``main``)."""

    repository_id: str = "flights"
    endpoint: str = ENDPOINT
    commits: dict[str, Commit] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)          # branch -> head commit
    staged: dict[str, dict[str, bytes]] = field(default_factory=dict)  # branch -> objects (committed + staged)
    log: dict[str, list[str]] = field(default_factory=dict)      # branch -> commit ids, newest first
    conflict_on_merge: bool = False
    bases: dict[str, str] = field(default_factory=dict)          # branch -> the commit it was created from
    calls: list[tuple[str, Any]] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        root = self._new_commit("Repository created", {}, {})
        self.heads["main"], self.staged["main"], self.log["main"] = root, {}, [root]

    def _new_commit(self, message: str, metadata: dict[str, str], objects: dict[str, bytes]) -> str:
        commit_id = f"c{next(self._ids):04d}"
        self.commits[commit_id] = Commit(commit_id, message, dict(metadata), dict(objects))
        return commit_id

    def _require(self, branch: str) -> None:
        if branch not in self.heads:
            raise NotFoundException(404, f"branch {branch} not found")

    # --- the LakeFSHook API used by the operators ---
    def repository(self) -> Any:
        return SimpleNamespace(id=self.repository_id, fake=self)

    def ensure_repository(self, default_branch: str = "main") -> None:
        self.calls.append(("ensure_repository", default_branch))

    def create_branch(self, name: str, source: str = "main") -> str:
        self.calls.append(("create_branch", (name, source)))
        if name not in self.heads:  # like the hook: an existing branch is kept as it is
            head = self.heads.get(source, source)
            self.heads[name], self.staged[name] = head, dict(self.commits[head].objects)
            self.log[name] = [head, *self.log.get(source, [])]
            self.bases[name] = head
        return self.heads[name]

    def recreate_branch(self, name: str, source: str = "main") -> str:
        self.delete_branch(name)
        return self.create_branch(name, source)

    def branch_exists(self, name: str) -> bool:
        return name in self.heads

    def upload(self, branch: str, path: str, data: bytes, content_type: str | None = None) -> None:
        self._require(branch)
        self.staged[branch][path] = data

    def upload_folder(self, branch: str, folder: Path, prefix: str) -> int:
        files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
        for path in files:
            self.upload(branch, f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes())
        return len(files)

    def download(self, ref: str, path: str) -> bytes:
        objects = self.staged[ref] if ref in self.staged else self.commits[ref].objects
        if path not in objects:
            raise NotFoundException(404, f"{path} not found at {ref}")
        return objects[path]

    def object_checksum(self, ref: str, path: str) -> str | None:
        try:
            return sha256(self.download(ref, path))
        except NotFoundException:
            return None

    def delete_prefix(self, branch: str, prefix: str) -> int:
        paths = [p for p in self.staged[branch] if p.startswith(prefix)]
        for path in paths:
            del self.staged[branch][path]
        return len(paths)

    def _has_changes(self, branch: str) -> bool:
        return self.staged[branch] != self.commits[self.heads[branch]].objects

    def commit(self, branch: str, message: str, metadata: dict[str, str], allow_empty: bool = False) -> str:
        self._require(branch)
        if not allow_empty and not self._has_changes(branch):
            raise RuntimeError(f"fake lakeFS: nothing to commit on {branch}")
        commit_id = self._new_commit(message, metadata, self.staged[branch])
        self.heads[branch] = commit_id
        self.log[branch].insert(0, commit_id)
        self.calls.append(("commit", (branch, commit_id)))
        return commit_id

    def commit_once(self, branch: str, message: str, metadata: dict[str, str]) -> str:
        """Stands in for the hook's method, which ``tests/unit/plugins/mlops/hooks`` tests itself."""
        head = self.commits[self.heads[branch]]
        if not self._has_changes(branch) and head.metadata.get(RunKey.RUN_ID) == metadata.get(RunKey.RUN_ID):
            return head.id
        return self.commit(branch, message, metadata, allow_empty=not self._has_changes(branch))

    def commit_metadata(self, commit_id: str) -> dict[str, str]:
        return dict(self.commits[commit_id].metadata)

    def find_merge(self, source_commit: str, branch: str = "main", depth: int = 200) -> str | None:
        for commit_id in self.log[branch][:depth]:
            if self.commits[commit_id].metadata.get(CommitKey.SOURCE_COMMIT) == source_commit:
                return commit_id
        return None

    def find_commit(self, metadata: dict[str, str], branch: str = "main", depth: int = 200) -> str | None:
        for commit_id in self.log[branch][:depth]:
            found = self.commits[commit_id].metadata
            if all(found.get(key) == value for key, value in metadata.items()):
                return commit_id
        return None

    def in_history(self, commit_id: str, branch: str = "main", depth: int = 5000) -> bool:
        return commit_id in self.log[branch][:depth]

    def _objects(self, ref: str) -> dict[str, bytes]:
        return self.staged[ref] if ref in self.staged else self.commits[ref].objects

    def diff(self, left: str, right: str) -> list[tuple[str, str]]:
        before, after = self._objects(left), self._objects(right)
        return sorted([("added", p) for p in after if p not in before] + [("removed", p) for p in before
                                                                          if p not in after]
                      + [("changed", p) for p in after if p in before and after[p] != before[p]])

    def copy_from(self, ref: str, path: str, branch: str) -> None:
        self._require(branch)
        self.staged[branch][path] = self._objects(ref)[path]

    def delete_objects(self, branch: str, paths: list[str]) -> None:
        self._require(branch)
        for path in paths:
            del self.staged[branch][path]

    def merge(self, source: str, destination: str, message: str, metadata: dict[str, str]) -> str:
        self.calls.append(("merge", (source, destination)))
        if self.conflict_on_merge:
            raise ConflictException(409, "Conflict")
        ours = self.commits[self.heads[source]].objects
        base = self.commits[self.bases[source]].objects if source in self.bases else {}
        merged = {path: data for path, data in {**self.commits[self.heads[destination]].objects, **ours}.items()
                  if path in ours or path not in base}  # deleted on the source branch: deleted
        commit_id = self._new_commit(message, metadata, merged)
        self.heads[destination], self.staged[destination] = commit_id, dict(merged)
        self.log[destination].insert(0, commit_id)
        return commit_id

    def delete_branch(self, name: str) -> None:
        self.calls.append(("delete_branch", name))
        for mapping in (self.heads, self.staged, self.log):
            mapping.pop(name, None)

    def head_commit(self, branch: str = "main") -> str:
        return self.heads[branch]

    def resolve_commit(self, ref: str) -> str:
        if ref in self.heads:
            return self.heads[ref]
        matches = [commit_id for commit_id in self.commits if commit_id.startswith(ref)]
        if len(matches) != 1:
            raise NotFoundException(404, f"reference {ref} not found")
        return matches[0]

    def commit_url(self, commit_id: str) -> str:
        return f"{self.endpoint}/repositories/{self.repository_id}/commits/{commit_id}"

    def branch_url(self, branch: str) -> str:
        return f"{self.endpoint}/repositories/{self.repository_id}/objects?ref={branch}"

    def folder_url(self, ref: str, prefix: str) -> str:
        return f"{self.endpoint}/repositories/{self.repository_id}/objects?ref={ref}&path={prefix}"

    # --- test set-up (not part of the hook's API) ---
    def _main_gets(self, objects: dict[str, bytes], metadata: dict[str, str] | None = None) -> str:
        """A commit on ``main`` made elsewhere (another run's merge); returns its id."""
        merged = {**self.commits[self.heads["main"]].objects, **objects}
        commit_id = self._new_commit("merge", metadata or {}, merged)
        self.heads["main"], self.staged["main"] = commit_id, dict(merged)
        self.log["main"].insert(0, commit_id)
        return commit_id


class FakeMlflowHook:
    """``MlflowHook``'s API for the operators: a client object (the service functions that use it are
    replaced in the tests) and the UI address."""

    tracking_uri = ui_url = "http://mlflow.test"

    def __init__(self) -> None:
        self.client = SimpleNamespace(name="fake MLflow client")

    def get_conn(self) -> Any:
        return self.client

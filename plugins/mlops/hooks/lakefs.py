"""Airflow hook for lakeFS, built on the high-level ``lakefs`` SDK.

The connection (type ``lakefs``, default ``lakefs_default``) holds the endpoint in ``host`` (a
full URL), the access key id in ``login``, the secret access key in ``password`` and a default
repository in the extra field ``repository`` (operators usually pass their use case's). The SDK
client is built once per hook; the SDK is imported only when a method runs. What a partition or
a dataset is belongs to ``include/etl``; this hook only branches, writes, commits and merges.
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from include.common.metadata import CommitKey, RunKey
from mlops.hooks.base_url import connection_url

if TYPE_CHECKING:
    from lakefs import Branch, Repository
    from lakefs.client import Client


class LakeFSHook(BaseHook):
    """Branch, write, commit and merge in one lakeFS repository."""

    conn_name_attr = "lakefs_conn_id"
    default_conn_name = "lakefs_default"
    conn_type = "lakefs"
    hook_name = "lakeFS"

    def __init__(self, lakefs_conn_id: str = default_conn_name, repository: str | None = None) -> None:
        super().__init__()
        self.lakefs_conn_id = lakefs_conn_id
        self._repository = repository

    @cached_property
    def _connection(self) -> Any:
        return self.get_connection(self.lakefs_conn_id)

    @property
    def endpoint(self) -> str:
        return connection_url(self._connection)

    @property
    def repository_id(self) -> str:
        repository = self._repository or self._connection.extra_dejson.get("repository")
        if not repository:
            raise ValueError(f"connection {self.lakefs_conn_id!r} names no repository "
                             "(extra field 'repository') and none was passed")
        return str(repository)

    @cached_property
    def client(self) -> Client:
        from lakefs.client import Client

        return Client(host=self.endpoint, username=self._connection.login, password=self._connection.password)

    def get_conn(self) -> Client:
        return self.client

    def repository(self) -> Repository:
        import lakefs

        return lakefs.Repository(self.repository_id, client=self.client)

    def branch(self, name: str) -> Branch:
        return self.repository().branch(name)

    def create_branch(self, name: str, source: str = "main") -> str:
        """Create ``name`` from ``source`` (kept as is if it exists); return its head commit."""
        branch = self.branch(name).create(source_reference=source, exist_ok=True)
        return str(branch.get_commit().id)

    def recreate_branch(self, name: str, source: str = "main") -> str:
        """Start ``name`` afresh from ``source`` (dropping an earlier attempt); return its head commit."""
        self.delete_branch(name)
        return self.create_branch(name, source)

    def branch_exists(self, name: str) -> bool:
        return name in {b.id for b in self.repository().branches(prefix=name)}

    def ensure_repository(self, default_branch: str = "main") -> None:
        """Create the repository if needed; its storage namespace prefix comes from the connection."""
        prefix = self._connection.extra_dejson.get("storage_namespace_prefix", "local://")
        self.repository().create(storage_namespace=f"{prefix}{self.repository_id}",
                                 default_branch=default_branch, exist_ok=True)

    def upload(self, branch: str, path: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``data`` to ``path`` on ``branch``, replacing what was there."""
        self.branch(branch).object(path).upload(data=data, mode="wb", content_type=content_type)

    def upload_folder(self, branch: str, folder: Path, prefix: str) -> int:
        """Upload every file under ``folder`` to ``prefix/<relative path>``; return the file count."""
        files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
        for path in files:
            content_type = "text/html" if path.suffix == ".html" else None
            self.upload(branch, f"{prefix}/{path.relative_to(folder).as_posix()}", path.read_bytes(), content_type)
        return len(files)

    def download(self, ref: str, path: str) -> bytes:
        with self.repository().ref(ref).object(path).reader(mode="rb") as reader:
            content = reader.read()
            return content.encode() if isinstance(content, str) else content

    def object_checksum(self, ref: str, path: str) -> str | None:
        """sha256 of the object's content, or None when it does not exist."""
        from lakefs.exceptions import NotFoundException

        try:
            return hashlib.sha256(self.download(ref, path)).hexdigest()
        except NotFoundException:
            return None

    def commit(self, branch: str, message: str, metadata: dict[str, str], allow_empty: bool = False) -> str:
        """Commit the branch's changes and return the commit id."""
        reference = self.branch(branch).commit(message=message, metadata=metadata, allow_empty=allow_empty)
        return str(reference.get_commit().id)

    def commit_once(self, branch: str, message: str, metadata: dict[str, str]) -> str:
        """Commit unless a retry finds this run's commit already at the head (nothing left to commit)."""
        has_changes = any(True for _ in self.branch(branch).uncommitted(max_amount=1))
        head = self.branch(branch).get_commit()
        if not has_changes and (head.metadata or {}).get(RunKey.RUN_ID) == metadata.get(RunKey.RUN_ID):
            self.log.info("branch %s already has this run's commit %s", branch, head.id)
            return str(head.id)
        return self.commit(branch, message, metadata, allow_empty=not has_changes)

    def commit_metadata(self, commit_id: str) -> dict[str, str]:
        return dict(self.repository().commit(commit_id).get_commit().metadata or {})

    def find_merge(self, source_commit: str, branch: str = "main", depth: int = 200) -> str | None:
        """The commit on ``branch`` that merged ``source_commit`` (recorded in its metadata), if any."""
        return self.find_commit({CommitKey.SOURCE_COMMIT: source_commit}, branch, depth)

    def find_commit(self, metadata: dict[str, str], branch: str = "main", depth: int = 200) -> str | None:
        """The newest commit in ``branch``'s history whose metadata holds every item of ``metadata``."""
        for commit in self.branch(branch).log(max_amount=depth):
            found = commit.metadata or {}
            if all(found.get(key) == value for key, value in metadata.items()):
                return str(commit.id)
        return None

    def in_history(self, commit_id: str, branch: str = "main", depth: int = 5000) -> bool:
        """Whether ``commit_id`` is ``branch``'s head or one of its ancestors (within ``depth`` commits)."""
        return any(str(commit.id) == commit_id for commit in self.branch(branch).log(max_amount=depth))

    def diff(self, left: str, right: str) -> list[tuple[str, str]]:
        """``(type, path)`` of every object that differs between two references' trees (a two-dot diff:
        ``added`` is in ``right`` only, ``removed`` in ``left`` only, ``changed`` in both)."""
        changes = self.repository().ref(left).diff(other_ref=right, type="two_dot")
        return [(str(change.type), str(change.path)) for change in changes]

    def copy_from(self, ref: str, path: str, branch: str) -> None:
        """Stage ``path`` on ``branch`` as it is at ``ref`` (a server-side copy; no bytes move)."""
        self.repository().ref(ref).object(path).copy(branch, path)

    def delete_objects(self, branch: str, paths: list[str]) -> None:
        for start in range(0, len(paths), 1000):  # the server takes at most 1000 paths per call
            self.branch(branch).delete_objects(paths[start:start + 1000])

    def ui_url(self, suffix: str) -> str:
        return f"{self.endpoint}/repositories/{self.repository_id}/{suffix}"

    def commit_url(self, commit_id: str) -> str:
        return self.ui_url(f"commits/{commit_id}")

    def branch_url(self, branch: str) -> str:
        return self.ui_url(f"objects?ref={branch}")

    def folder_url(self, ref: str, prefix: str) -> str:
        return self.ui_url(f"objects?ref={ref}&path={quote(prefix)}")

    def delete_prefix(self, branch: str, prefix: str) -> int:
        """Delete every object under ``prefix`` on ``branch``; return how many."""
        paths = [obj.path for obj in self.branch(branch).objects(prefix=prefix)]
        if paths:
            self.branch(branch).delete_objects(paths)
        return len(paths)

    def merge(self, source: str, destination: str, message: str, metadata: dict[str, str]) -> str:
        """Merge ``source`` into ``destination`` and return the merge commit id."""
        return str(self.branch(source).merge_into(self.branch(destination), message=message,
                                                  metadata=metadata))

    def delete_branch(self, name: str) -> None:
        from lakefs.exceptions import NotFoundException

        try:
            self.branch(name).delete()
        except NotFoundException:
            self.log.info("branch %s was already deleted", name)

    def head_commit(self, branch: str = "main") -> str:
        return str(self.branch(branch).get_commit().id)

    def resolve_commit(self, ref: str) -> str:
        """The commit id a branch, tag or (abbreviated) commit id points to now."""
        return str(self.repository().ref(ref).get_commit().id)

    def test_connection(self) -> tuple[bool, str]:
        try:
            default_branch = self.repository().properties.default_branch
        except Exception as error:  # noqa: BLE001 - reported in the UI, not raised
            return False, f"lakeFS at {self.endpoint}: {error}"
        return True, f"lakeFS at {self.endpoint}, repository {self.repository_id} ({default_branch}): reachable"

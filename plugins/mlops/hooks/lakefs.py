"""Airflow hook for lakeFS, built on the high-level ``lakefs`` SDK.

The connection (default ``lakefs_default``) holds the endpoint in ``host`` (a full URL),
the access key id in ``login``, the secret in ``password`` and the repository in the
extra field ``repository``. The SDK is imported only when a method runs.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow.sdk import BaseHook

from mlops.hooks.base_url import connection_url

if TYPE_CHECKING:
    import pandas as pd
    from lakefs import Branch, Repository
    from lakefs.client import Client


class LakeFSHook(BaseHook):
    """Branch, write, commit and merge in one lakeFS repository."""

    conn_name_attr = "lakefs_conn_id"
    default_conn_name = "lakefs_default"
    conn_type = "http"
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

    def get_conn(self) -> Client:
        from lakefs.client import Client

        return Client(host=self.endpoint, username=self._connection.login,
                      password=self._connection.password)

    def repository(self) -> Repository:
        import lakefs

        return lakefs.Repository(self.repository_id, client=self.get_conn())

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
        if not has_changes and (head.metadata or {}).get("airflow_run_id") == metadata.get("airflow_run_id"):
            self.log.info("branch %s already has this run's commit %s", branch, head.id)
            return str(head.id)
        return self.commit(branch, message, metadata, allow_empty=not has_changes)

    def commit_metadata(self, commit_id: str) -> dict[str, str]:
        return dict(self.repository().commit(commit_id).get_commit().metadata or {})

    def find_merge(self, source_commit: str, branch: str = "main", depth: int = 200) -> str | None:
        """The commit on ``branch`` that merged ``source_commit`` (recorded in its metadata), if any."""
        for commit in self.branch(branch).log(max_amount=depth):
            if (commit.metadata or {}).get("source_commit") == source_commit:
                return str(commit.id)
        return None

    def published_row_counts(self, usecase: str, count: int, exclude: Any = None,
                             branch: str = "main", depth: int = 500) -> list[int]:
        """Row counts of the most recent distinct partitions published on ``branch``."""
        excluded = str(exclude) if exclude is not None else None
        seen: dict[str, int] = {}
        for commit in self.branch(branch).log(max_amount=depth):
            meta = commit.metadata or {}
            partition = meta.get("partition")
            if meta.get("mlops_usecase") != usecase or "source_commit" not in meta or not partition:
                continue
            if partition != excluded and partition not in seen and "row_count" in meta:
                seen[partition] = int(meta["row_count"])
            if len(seen) >= count:
                break
        return list(seen.values())

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

    def partition_days(self, ref: str, dataset_prefix: str, partition_column: str) -> list[date]:
        """Days that have a partition folder ``<prefix>/<column>=<day>/`` at ``ref``, sorted."""
        marker = f"{dataset_prefix}/{partition_column}="
        folders = self.repository().ref(ref).objects(prefix=marker, delimiter="/")
        return sorted(date.fromisoformat(obj.path.removeprefix(marker).rstrip("/")) for obj in folders)

    def read_partitions(self, ref: str, paths: list[str]) -> pd.DataFrame:
        """The parquet objects at ``paths`` on ``ref``, concatenated in the given order."""
        import io

        import pandas as pd

        if not paths:
            raise ValueError(f"no partitions to read at {ref} in repository {self.repository_id}")
        return pd.concat([pd.read_parquet(io.BytesIO(self.download(ref, path))) for path in paths],
                         ignore_index=True)

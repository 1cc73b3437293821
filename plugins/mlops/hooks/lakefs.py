"""Airflow hook for lakeFS, built on the high-level ``lakefs`` SDK.

The connection (default ``lakefs_default``) holds the endpoint in ``host`` (a full URL),
the access key id in ``login``, the secret in ``password`` and the repository in the
extra field ``repository``. The SDK is imported only when a method runs.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from mlops.hooks.base_url import connection_url

if TYPE_CHECKING:
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

    def upload(self, branch: str, path: str, data: bytes, content_type: str | None = None) -> None:
        """Write ``data`` to ``path`` on ``branch``, replacing what was there."""
        self.branch(branch).object(path).upload(data=data, mode="wb", content_type=content_type)

    def commit(self, branch: str, message: str, metadata: dict[str, str]) -> str:
        """Commit the branch's changes and return the commit id."""
        return str(self.branch(branch).commit(message=message, metadata=metadata).get_commit().id)

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

    def test_connection(self) -> tuple[bool, str]:
        try:
            default_branch = self.repository().properties.default_branch
        except Exception as error:  # noqa: BLE001 - reported in the UI, not raised
            return False, f"lakeFS at {self.endpoint}: {error}"
        return True, f"lakeFS at {self.endpoint}, repository {self.repository_id} ({default_branch}): reachable"

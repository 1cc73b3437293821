"""What every stage's operators share: the use case they act for, and how they skip."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

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

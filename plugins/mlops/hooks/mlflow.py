"""Airflow hook for an MLflow tracking server.

The connection (default ``mlflow_default``) holds the tracking URI in ``host``. MLflow is
imported only when a method runs.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from mlops.hooks.base_url import connection_url

if TYPE_CHECKING:
    from mlflow import MlflowClient


class MlflowHook(BaseHook):
    """Gives tasks the tracking URI and an ``MlflowClient`` for it."""

    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "http"
    hook_name = "MLflow"

    def __init__(self, mlflow_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.mlflow_conn_id = mlflow_conn_id

    @cached_property
    def _connection(self) -> Any:
        return self.get_connection(self.mlflow_conn_id)

    @property
    def tracking_uri(self) -> str:
        return connection_url(self._connection)

    def get_conn(self) -> MlflowClient:
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.tracking_uri)

    def activate(self) -> str:
        """Point the ``mlflow`` fluent API of this process at the server; return the URI."""
        import mlflow

        mlflow.set_tracking_uri(self.tracking_uri)
        return self.tracking_uri

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.get_conn().search_experiments(max_results=1)
        except Exception as error:  # noqa: BLE001 - reported in the UI, not raised
            return False, f"MLflow at {self.tracking_uri}: {error}"
        return True, f"MLflow at {self.tracking_uri}: reachable"

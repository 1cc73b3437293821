"""Airflow hook for an MLflow tracking server: the one way tasks reach MLflow.

The connection (type ``mlflow``, default ``mlflow_default``) holds the tracking URI in ``host``
and, for a secured server, a user in ``login`` with its password in ``password``, or a bearer
token in the extra field ``token``. MLflow is imported only when a method runs.
"""

from __future__ import annotations

import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from mlops.hooks.base_url import connection_url

if TYPE_CHECKING:
    from mlflow import MlflowClient

# MLflow's REST client reads credentials from these variables at every request.
CREDENTIAL_VARIABLES = ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN")


class MlflowHook(BaseHook):
    """An ``MlflowClient`` for the connection's server, with the connection's credentials."""

    conn_name_attr = "mlflow_conn_id"
    default_conn_name = "mlflow_default"
    conn_type = "mlflow"
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

    @property
    def ui_url(self) -> str:
        """Where people open runs and model versions (the tracking server serves its UI)."""
        return self.tracking_uri

    def credentials(self) -> dict[str, str]:
        """The connection's credentials as MLflow's environment variables (empty for an open server)."""
        connection = self._connection
        token = connection.extra_dejson.get("token")
        if token:
            return {"MLFLOW_TRACKING_TOKEN": str(token)}
        if connection.login:
            return {"MLFLOW_TRACKING_USERNAME": connection.login, "MLFLOW_TRACKING_PASSWORD": connection.password or ""}
        return {}

    @cached_property
    def client(self) -> MlflowClient:
        """Built once per hook. MLflow takes credentials only from the environment, so they are set in
        this (task) process; other credentials of an earlier connection are cleared first."""
        from mlflow import MlflowClient

        for variable in CREDENTIAL_VARIABLES:
            os.environ.pop(variable, None)
        os.environ.update(self.credentials())
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def get_conn(self) -> MlflowClient:
        return self.client

    def test_connection(self) -> tuple[bool, str]:
        try:
            self.get_conn().search_experiments(max_results=1)
        except Exception as error:  # noqa: BLE001 - reported in the UI, not raised
            return False, f"MLflow at {self.tracking_uri}: {error}"
        return True, f"MLflow at {self.tracking_uri}: reachable"

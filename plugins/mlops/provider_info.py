"""Provider metadata: registers the ``lakefs`` and ``mlflow`` connection types with their form
fields in the Airflow UI. Found through the ``apache_airflow_provider`` entry point that
``pyproject.toml`` declares (``make setup`` installs the project into ``.venv`` in editable mode).
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "mlops-airflow",
        "name": "MLOps platform (lakeFS, MLflow)",
        "description": "Hooks, operators and notifiers of this project's ML lifecycle DAGs.",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "hook-class-name": "mlops.hooks.lakefs.LakeFSHook",
                "hook-name": "lakeFS",
                "connection-type": "lakefs",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Endpoint", "login": "Access key id", "password": "Secret access key"},
                    "placeholders": {"host": "http://127.0.0.1:8000"},
                },
                "conn-fields": {
                    "repository": {"label": "Default repository",
                                   "description": "Used when an operator names none (use cases name their own).",
                                   "schema": {"type": ["string", "null"]}},
                    "storage_namespace_prefix": {
                        "label": "Storage namespace prefix",
                        "description": "Where new repositories store data, e.g. local:// or s3://bucket/prefix/.",
                        "schema": {"type": ["string", "null"]}},
                },
            },
            {
                "hook-class-name": "mlops.hooks.mlflow.MlflowHook",
                "hook-name": "MLflow",
                "connection-type": "mlflow",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "Tracking URI", "login": "Username (basic auth)",
                                   "password": "Password (basic auth)"},
                    "placeholders": {"host": "http://127.0.0.1:5000"},
                },
                "conn-fields": {
                    "token": {"label": "Bearer token", "description": "Instead of a username and password.",
                              "schema": {"type": ["string", "null"]}},
                },
            },
        ],
    }

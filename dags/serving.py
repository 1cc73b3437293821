"""
### Deploy and rollback DAGs per use case with a `serving` section (Airflow discovers this file: "airflow", "dag")

Generated from `include/usecases/*.yaml` by `mlops.factories.serving`.
"""

from __future__ import annotations

from include.common.usecase import load_usecases
from mlops.factories.serving import build_deploy_dag, build_rollback_dag

for _usecase in load_usecases():
    if _usecase.serving is not None:
        globals()[f"deploy_{_usecase.name}"] = build_deploy_dag(_usecase)
        globals()[f"rollback_{_usecase.name}"] = build_rollback_dag(_usecase)

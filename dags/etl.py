"""
### ETL DAGs, one per use case (Airflow discovers this file: it names "airflow" and "dag")

Generated from `include/usecases/*.yaml` by `mlops.factories.etl.build_etl_dag`: add a use case
file and its expectation suite, and `etl_<name>` appears here (see README, "Adding a use case").
"""

from __future__ import annotations

from include.common.usecase import load_usecases
from mlops.factories.etl import build_etl_dag

for _usecase in load_usecases():
    globals()[f"etl_{_usecase.name}"] = build_etl_dag(_usecase)

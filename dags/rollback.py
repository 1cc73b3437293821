"""
### Data rollback DAGs, one per use case (Airflow discovers this file: it names "airflow" and "dag")

Generated from `include/usecases/*.yaml` by `mlops.factories.rollback.build_rollback_dag`:
`rollback_data_<name>` rolls lakeFS `main` back to an earlier commit as a new commit.
"""

from __future__ import annotations

from include.common.usecase import load_usecases
from mlops.factories.rollback import build_rollback_dag

for _usecase in load_usecases():
    globals()[f"rollback_data_{_usecase.name}"] = build_rollback_dag(_usecase)

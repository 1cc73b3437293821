"""
### Monitoring DAGs, one per use case with a `monitoring` section (Airflow discovers this file: "airflow", "dag")

Generated from `include/usecases/*.yaml` by `mlops.factories.monitoring.build_monitoring_dag`.
"""

from __future__ import annotations

from include.common.usecase import load_usecases
from mlops.factories.monitoring import build_monitoring_dag

for _usecase in load_usecases():
    if _usecase.monitoring is not None:
        globals()[f"monitor_{_usecase.name}"] = build_monitoring_dag(_usecase)

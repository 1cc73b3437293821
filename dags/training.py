"""
### Training DAGs, one per use case with a `training` section (Airflow discovers this file: "airflow", "dag")

Generated from `include/usecases/*.yaml` by `mlops.factories.training.build_training_dag`.
"""

from __future__ import annotations

from include.common.usecase import load_usecases
from mlops.factories.training import build_training_dag

for _usecase in load_usecases():
    if _usecase.training is not None:
        globals()[f"train_{_usecase.name}"] = build_training_dag(_usecase)

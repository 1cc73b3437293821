"""Read what lineage needs from an Airflow task context."""

from __future__ import annotations

from typing import Any

from include.common.lineage import run_metadata


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def metadata_from_context(context: Any) -> dict[str, str]:
    """lakeFS/MLflow metadata for the running task (manual runs may lack a logical date)."""
    dag_run = context["dag_run"]
    return run_metadata(
        dag_id=dag_run.dag_id,
        run_id=dag_run.run_id,
        task_id=context["ti"].task_id,
        logical_date=_iso(context.get("logical_date")),
        interval_start=_iso(context.get("data_interval_start")),
        interval_end=_iso(context.get("data_interval_end")),
    )

"""A regression model (hotels) packaged as a Bento and validated served for real, without Airflow:
the include/serving functions against the real MLflow server and a real BentoML server."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from include.common.usecase import load_usecase
from include.serving.deployment import infra_validate, record_infra_report
from include.serving.packaging import build_bento
from include.training.service import PinnedData, run_settings_for, train_and_log
from include.training.tracking import DataRef
from mlops.hooks.mlflow import MlflowHook
from tests.support.source_data import partitions

FIRST, LAST = date(2016, 9, 1), date(2016, 11, 29)  # 90 days: the use case's window


def test_a_regression_bento_passes_infra_validation_and_answers_values(stack_connections: None,
                                                                       tmp_path: Path) -> None:
    usecase = load_usecase("hotels")
    client = MlflowHook().get_conn()
    pinned = PinnedData(usecase.lakefs_repository, "e" * 64, "main", FIRST, LAST, (LAST - FIRST).days + 1)
    data = DataRef(usecase.lakefs_repository, pinned.commit_id, usecase.dataset_prefix, "http://127.0.0.1", "")
    logged = train_and_log(client, usecase, run_settings_for(usecase, pinned), partitions("hotels", FIRST, LAST),
                           data, {"airflow_run_id": "serving-hotels", "airflow_task_id": "train"}, "test")

    bento = build_bento(client, usecase, str(logged.model_version), tmp_path / "bentoml", "test")
    assert bento.tag == f"hotels_price:v{logged.model_version}" and bento.run_id == logged.run_id
    config = json.loads((tmp_path / "bentoml" / "bentos" / "hotels_price" / f"v{logged.model_version}" / "src" /
                         "service_config.json").read_text())
    assert config["task"] == "regression" and [f["name"] for f in config["features"]] == usecase.features

    report = infra_validate(client, usecase, bento, tmp_path / "bentoml", tmp_path)
    assert report.passed, report.summary()
    assert report.parity["rows"] == usecase.require_serving().parity_rows and report.parity["mismatches"] == 0
    record_infra_report(client, bento, report)
    tags = client.get_model_version("hotels_price", str(logged.model_version)).tags
    assert tags["infra_validation_verdict"] == "passed" and tags["bento"] == bento.tag

    rebuilt = build_bento(client, usecase, str(logged.model_version), tmp_path / "bentoml", "test")
    assert rebuilt == bento  # idempotent: the same tag, replaced

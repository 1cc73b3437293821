"""The request schema, labels and service configuration of a Bento (no server, no build)."""

from __future__ import annotations

import json

import pytest

from include.common.usecase import load_usecase
from include.serving.packaging import (
    SERVICE_SOURCE,
    PackagingError,
    bento_labels,
    feature_schema,
    service_config,
    service_source,
)


def mlmodel(columns: dict[str, str]) -> dict[str, object]:
    return {"signature": {"inputs": json.dumps([{"name": n, "type": t, "required": True}
                                                for n, t in columns.items()])}}


def test_the_schema_is_the_use_cases_features_typed_by_the_signature() -> None:
    usecase = load_usecase("flights")
    types = {name: "double" for name in usecase.features} | {"month": "long", "origin": "string", "extra": "double"}
    schema = feature_schema(usecase, mlmodel(types))
    assert [f["name"] for f in schema] == usecase.features  # the use case's order; columns it lacks dropped
    assert {"name": "month", "type": "long"} in schema and {"name": "origin", "type": "string"} in schema


def test_a_model_without_a_feature_or_signature_cannot_be_packaged() -> None:
    usecase = load_usecase("flights")
    with pytest.raises(PackagingError, match="lacks the use case's features"):
        feature_schema(usecase, mlmodel({"month": "long"}))
    with pytest.raises(PackagingError, match="no input signature"):
        feature_schema(usecase, {})


def test_labels_and_config_carry_lineage_and_limits() -> None:
    usecase = load_usecase("flights")
    labels = bento_labels({"lakefs_commit": "abc", "lakefs_repository": "flights", "code_version": "rev1"},
                          "flights_delay", "3", "run9", "rev2")
    assert labels == {"mlflow_run_id": "run9", "model_name": "flights_delay", "model_version": "3",
                      "lakefs_repository": "flights", "lakefs_commit": "abc", "code_version": "rev1",
                      "packaged_by_code_version": "rev2"}
    config = service_config(usecase, "flights_delay", "3", [{"name": "month", "type": "long"}], labels)
    assert config["model_tag"] == "flights_delay:v3" and config["max_batch_size"] == 64
    assert config["decision_threshold"] == 0.3 and config["task"] == "binary_classification"
    assert service_source(usecase) == SERVICE_SOURCE

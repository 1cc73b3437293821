"""The BentoML service of a use case's model: the source every Bento ships (as ``service.py`` and, for
services that build on it, ``model_service.py``). Not importable in the project's environment.

It runs in the serving environment (the Bento's own pinned requirements: BentoML, MLflow's sklearn
flavour, scikit-learn, pandas; no Airflow, nothing from this project), so it imports only those and
reads what it serves from ``service_config.json`` beside it, written when the Bento is built:
the model's tag in the BentoML store, the request schema (the use case's features with the model
signature's types), the task, the decision threshold and the batching limits.

Endpoints: ``POST /predict`` with ``{"records": [{feature: value, ...}, ...]}`` (1 to
``max_batch_size`` records, validated by pydantic: a missing field or a wrong type is a 400 naming
it); adaptive batching merges concurrent requests. BentoML adds ``/livez``, ``/readyz``,
``/metrics`` (Prometheus) and ``/docs``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import bentoml
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model

CONFIG = json.loads((Path(__file__).parent / "service_config.json").read_text())
PYTHON_TYPES: dict[str, Any] = {"long": int, "integer": int, "double": float, "float": float, "string": str,
                                "boolean": bool}


def record_model(features: list[dict[str, str]]) -> type[BaseModel]:
    """One record: every feature required (``null`` allowed: the pipeline imputes), no other field."""
    fields: dict[str, Any] = {f["name"]: (PYTHON_TYPES[f["type"]] | None, Field(...)) for f in features}
    return create_model("Record", __config__=ConfigDict(extra="forbid", strict=False), **fields)


Record = record_model(CONFIG["features"])


def frame_of(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Records as the pipeline saw them in training: numbers numeric (null as NaN), text as objects with
    null as ``None`` (parquet's missing strings; the pipeline treats ``None`` and NaN differently)."""
    frame = pd.DataFrame(rows, columns=[f["name"] for f in CONFIG["features"]])
    for feature in CONFIG["features"]:
        if PYTHON_TYPES[feature["type"]] in (int, float):
            frame[feature["name"]] = pd.to_numeric(frame[feature["name"]])
    return frame


def exit_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; called at import, in the main thread).

    In a BentoML worker the parent is the server's arbiter. Circus starts each worker in a session of its
    own (``setsid``), outside the server's process group: a SIGKILL to that group (supervisord's
    ``killasgroup``, the OOM killer, fault 6 of ``tests/faults``) left the worker running with the port,
    still serving, and every restart of the server failed with "Address already in use". In the arbiter
    (it imports the service too) the parent is supervisord or the process that started the server.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    parent = os.getppid()
    if ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL) != 0:  # 1: PR_SET_PDEATHSIG
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


exit_with_parent()


class Prediction(BaseModel):
    prediction: float = Field(description="the predicted class (0/1) or value")
    probability: float | None = Field(None, description="classification: probability of the positive class")
    model_name: str
    model_version: str


@bentoml.service(name=CONFIG["service_name"], workers=1, traffic={"timeout": 30},
                 labels=CONFIG["labels"])
class ModelService:
    """Predictions of ``model_name`` version ``model_version`` for batches of records."""

    bento_model = bentoml.models.BentoModel(CONFIG["model_tag"])

    def __init__(self) -> None:
        import mlflow.sklearn

        self.pipeline = mlflow.sklearn.load_model(self.bento_model.path_of("mlflow_model"))
        self.columns = [f["name"] for f in CONFIG["features"]]

    @bentoml.api(batchable=True, max_batch_size=CONFIG["max_batch_size"],  # type: ignore[untyped-decorator]
                 max_latency_ms=CONFIG["max_latency_ms"])
    def predict(self, records: Annotated[list[Record], Field(min_length=1,  # type: ignore[valid-type]
                                                              max_length=CONFIG["max_batch_size"])]
                ) -> list[Prediction]:
        rows = [record.model_dump() for record in records]  # type: ignore[attr-defined]
        return [Prediction(**row) for row in self.score(frame_of(rows))]

    def score(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        model = {"model_name": CONFIG["model_name"], "model_version": CONFIG["model_version"]}
        if CONFIG["task"] == "binary_classification":
            probability = np.asarray(self.pipeline.predict_proba(frame)[:, 1], dtype=float)
            labels = (probability >= CONFIG["decision_threshold"]).astype(float)
            return [{"prediction": p, "probability": q, **model} for p, q in zip(labels, probability, strict=True)]
        values = np.asarray(self.pipeline.predict(frame), dtype=float)
        return [{"prediction": v, **model} for v in values]

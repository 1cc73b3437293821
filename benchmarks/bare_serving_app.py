"""The bare baseline of ``benchmarks/serving.py``: the same MLflow pipeline behind a minimal Starlette
app on uvicorn (no validation beyond JSON, no batching). Runs in the Bento's serving environment:

    <serving env>/bin/python benchmarks/bare_serving_app.py <mlflow model folder> <port>
"""

from __future__ import annotations

import sys
import warnings

import mlflow.sklearn
import numpy as np
import pandas as pd
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    PIPELINE = mlflow.sklearn.load_model(sys.argv[1])


async def predict(request: Request) -> JSONResponse:
    frame = pd.DataFrame((await request.json())["records"])
    probability = np.asarray(PIPELINE.predict_proba(frame)[:, 1], dtype=float)
    return JSONResponse([{"probability": float(p)} for p in probability])


async def ready(_: Request) -> JSONResponse:
    return JSONResponse({})


app = Starlette(routes=[Route("/predict", predict, methods=["POST"]), Route("/readyz", ready)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", workers=1)

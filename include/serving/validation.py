"""Infra validation: a Bento served for real must be ready in time, agree with the registered model,
refuse malformed requests with a 4xx and stay up, and meet the use case's latency budget.

The verdict is an ``InfraReport`` (serialised once, by ``to_dict``), logged on the model's MLflow run
like the evaluation gate's decision; a model with any reason against it is never promoted.
"""

from __future__ import annotations

import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import requests

from include.common.usecase import LatencyBudget, LoadTestConfig, UseCase

TIMEOUT = 30


@dataclass
class InfraReport:
    """Figures and verdict of one infra validation."""

    bento: str
    ready_seconds: float
    parity: dict[str, Any] = field(default_factory=dict)
    malformed: list[dict[str, Any]] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def verdict(self) -> str:
        return "passed" if self.passed else "failed"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> InfraReport:
        return cls(**{key: values[key] for key in cls.__dataclass_fields__})

    def metrics(self) -> dict[str, float]:
        """Figures for MLflow (keys under ``serving.``)."""
        figures = {"serving.ready_seconds": self.ready_seconds, "serving.passed": float(self.passed)}
        figures.update({f"serving.parity_{k}": float(v) for k, v in self.parity.items() if k != "examples"})
        figures.update({f"serving.load_{k}": float(v) for k, v in self.load.items()})
        return figures

    def summary(self) -> str:
        load = self.load
        lines = [f"{self.bento}: infra validation {self.verdict}; ready in {self.ready_seconds:.1f} s",
                 f"parity: {self.parity.get('rows', 0)} rows, max |served - offline| "
                 f"{self.parity.get('max_abs_difference', float('nan')):.3g}",
                 f"malformed requests: {sum(c['ok'] for c in self.malformed)}/{len(self.malformed)} refused cleanly",
                 f"load: {load.get('requests', 0)} requests at concurrency {load.get('concurrency', 0)}: "
                 f"p50 {load.get('p50_ms', 0):.1f} ms, p99 {load.get('p99_ms', 0):.1f} ms, "
                 f"{load.get('requests_per_second', 0):.1f} req/s, {load.get('errors', 0)} errors"]
        return "\n".join([*lines, *(f"- {reason}" for reason in self.reasons)])


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-ready records with every float exact (NaN as null), as a client would send them.
    (``DataFrame.to_json`` rounds to 10 digits: enough to move a value across a tree's split.)"""
    return [{str(key): None if pd.isna(value) else value for key, value in row.items()}
            for row in frame.to_dict(orient="records")]


def served_values(response: requests.Response, task: str) -> np.ndarray:
    key = "probability" if task == "binary_classification" else "prediction"
    return np.asarray([row[key] for row in response.json()], dtype=float)


def check_parity(url: str, sample: pd.DataFrame, offline: np.ndarray, usecase: UseCase) -> dict[str, Any]:
    """Served predictions for ``sample`` (in batches of the maximum size) against the offline ones."""
    batch = usecase.require_serving().max_batch_size
    served = []
    for start in range(0, len(sample), batch):
        response = requests.post(f"{url}/predict", json={"records": records(sample.iloc[start:start + batch])},
                                 timeout=TIMEOUT)
        response.raise_for_status()
        served.append(served_values(response, usecase.task))
    difference = np.abs(np.concatenate(served) - offline)
    worst = np.argsort(-difference)[:3]
    return {"rows": len(sample), "max_abs_difference": float(difference.max()),
            "mismatches": int((difference > usecase.require_serving().parity_tolerance).sum()),
            "examples": [{"row": int(i), "served": float(np.concatenate(served)[i]), "offline": float(offline[i])}
                         for i in worst]}


def malformed_requests(record: dict[str, Any], max_batch: int) -> dict[str, dict[str, Any]]:
    """Each malformed request by name, as ``requests.post`` keyword arguments."""
    first = next(iter(record))
    return {
        "missing field": {"json": {"records": [{k: v for k, v in record.items() if k != first}]}},
        "wrong type": {"json": {"records": [{**record, first: "not-a-value"}]}},
        "unknown field": {"json": {"records": [{**record, "unexpected_field": 1}]}},
        "empty batch": {"json": {"records": []}},
        "oversized batch": {"json": {"records": [record] * (max_batch + 1)}},
        "no records key": {"json": [record]},
        "wrong content type": {"data": "records=1", "headers": {"Content-Type": "text/plain"}},
        "garbage body": {"data": b"\x00{not json", "headers": {"Content-Type": "application/json"}},
    }


def check_malformed(url: str, record: dict[str, Any], max_batch: int) -> list[dict[str, Any]]:
    """Each malformed request must get a 4xx with a message, and the server must answer /livez after it."""
    results = []
    for name, request in malformed_requests(record, max_batch).items():
        try:
            response = requests.post(f"{url}/predict", timeout=TIMEOUT, **request)
            status, message = response.status_code, response.text[:300]
        except requests.RequestException as error:
            status, message = 0, f"no response: {type(error).__name__}"
        up = server_up(url)
        results.append({"case": name, "status": status, "message": message, "server_up": up,
                        "ok": 400 <= status < 500 and bool(message.strip()) and up})
    return results


def server_up(url: str, attempts: int = 3) -> bool:
    for _ in range(attempts):
        try:
            if requests.get(f"{url}/livez", timeout=5).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def load_test(url: str, sample: pd.DataFrame, config: LoadTestConfig) -> dict[str, float]:
    """``config.requests`` requests from ``config.concurrency`` threads (one connection each); latency
    percentiles, throughput and errors."""
    bodies = [records(sample.iloc[i % len(sample):i % len(sample) + config.records_per_request])
              for i in range(config.requests)]

    def send(body: list[dict[str, Any]], session: requests.Session) -> float | None:
        started = time.perf_counter()
        try:
            ok = session.post(f"{url}/predict", json={"records": body}, timeout=TIMEOUT).status_code == 200
        except requests.RequestException:
            ok = False
        return (time.perf_counter() - started) * 1000 if ok else None

    sessions = [requests.Session() for _ in range(config.concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(config.concurrency) as pool:
        latencies = list(pool.map(lambda i: send(bodies[i], sessions[i % config.concurrency]), range(config.requests)))
    elapsed = time.perf_counter() - started
    ok = np.asarray([value for value in latencies if value is not None])
    return {"requests": config.requests, "concurrency": config.concurrency,
            "records_per_request": config.records_per_request, "errors": len(latencies) - len(ok),
            "p50_ms": float(np.percentile(ok, 50)) if len(ok) else 0.0,
            "p99_ms": float(np.percentile(ok, 99)) if len(ok) else 0.0,
            "requests_per_second": len(ok) / elapsed}


def verdict_reasons(report: InfraReport, budget: LatencyBudget, tolerance: float, ready_timeout: float) -> list[str]:
    """Why the Bento must not be promoted (empty: it may)."""
    reasons = []
    if report.ready_seconds > ready_timeout:
        reasons.append(f"ready after {report.ready_seconds:.1f} s > {ready_timeout:.0f} s")
    if report.parity.get("mismatches", 1):
        reasons.append(f"parity: {report.parity.get('mismatches')} of {report.parity.get('rows')} predictions "
                       f"differ from the MLflow model's by more than {tolerance:g} (max "
                       f"{report.parity.get('max_abs_difference', float('nan')):.3g})")
    for case in report.malformed:
        if not case["ok"]:
            what = "the server went down" if not case["server_up"] else f"status {case['status']}"
            reasons.append(f"malformed request '{case['case']}': {what} (expected a 4xx and the server up): "
                           f"{case['message'][:120]}")
    load = report.load
    if load.get("errors"):
        reasons.append(f"load test: {load['errors']} of {load['requests']} requests failed")
    if load.get("p99_ms", 0) > budget.p99_ms:
        reasons.append(f"load test: p99 {load['p99_ms']:.0f} ms > budget {budget.p99_ms:.0f} ms")
    if load.get("requests_per_second", 0) < budget.min_requests_per_second:
        reasons.append(f"load test: {load.get('requests_per_second', 0):.1f} req/s < budget "
                       f"{budget.min_requests_per_second:.0f} req/s")
    return reasons


def offline_predictions(model_dir: str, sample: pd.DataFrame, task: str) -> np.ndarray:
    """The registered model's own predictions (MLflow's sklearn flavour, in this process)."""
    import mlflow.sklearn

    with warnings.catch_warnings():  # skops touches every loaded module: ~1,000 deprecation warnings
        warnings.simplefilter("ignore")
        pipeline = mlflow.sklearn.load_model(model_dir)
    if task == "binary_classification":
        return np.asarray(pipeline.predict_proba(sample)[:, 1], dtype=float)
    return np.asarray(pipeline.predict(sample), dtype=float)


def validate(url: str, ready_seconds: float, bento: str, usecase: UseCase, sample: pd.DataFrame,
             offline: np.ndarray) -> InfraReport:
    """Run every check against the server at ``url``; the report carries the reasons against it."""
    serving = usecase.require_serving()
    report = InfraReport(bento, ready_seconds)
    try:
        report.parity = check_parity(url, sample, offline, usecase)
    except (requests.RequestException, ValueError, KeyError) as error:
        report.parity = {"rows": len(sample), "mismatches": len(sample), "error": 1.0}
        report.reasons.append(f"parity: the server failed on valid records: {error}")
    report.malformed = check_malformed(url, records(sample.head(1))[0], serving.max_batch_size)
    report.load = load_test(url, sample, serving.load_test) if server_up(url) else {}
    report.reasons += verdict_reasons(report, serving.budget, serving.parity_tolerance, serving.ready_timeout_seconds)
    return report

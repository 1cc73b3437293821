"""Infra validation's verdict and malformed requests (no server; the checks run for real in e2e)."""

from __future__ import annotations

from include.common.usecase import load_usecase
from include.serving.validation import InfraReport, malformed_requests, verdict_reasons

GOOD_LOAD = {"requests": 400, "concurrency": 8, "errors": 0, "p50_ms": 20.0, "p99_ms": 80.0,
             "requests_per_second": 120.0}


def report(**changes: object) -> InfraReport:
    values: dict[str, object] = {
        "bento": "flights_delay:v1", "ready_seconds": 5.0,
        "parity": {"rows": 200, "max_abs_difference": 0.0, "mismatches": 0},
        "malformed": [{"case": "empty batch", "status": 400, "message": "too_short", "server_up": True, "ok": True}],
        "load": GOOD_LOAD, **changes}
    return InfraReport(**values)  # type: ignore[arg-type]


def reasons(infra: InfraReport) -> list[str]:
    serving = load_usecase("flights").require_serving()
    return verdict_reasons(infra, serving.budget, serving.parity_tolerance, serving.ready_timeout_seconds)


def test_a_good_report_passes_and_round_trips() -> None:
    good = report()
    assert reasons(good) == []
    assert InfraReport.from_dict(good.to_dict()) == good and good.to_dict()["verdict"] == "passed"
    assert good.metrics()["serving.load_p99_ms"] == 80.0 and good.metrics()["serving.parity_rows"] == 200


def test_each_failed_check_is_a_reason() -> None:
    assert "parity: 3 of 200" in reasons(report(parity={"rows": 200, "max_abs_difference": 0.02, "mismatches": 3}))[0]
    crashed = [{"case": "wrong type", "status": 0, "message": "no response", "server_up": False, "ok": False}]
    assert "the server went down" in reasons(report(malformed=crashed))[0]
    server_error = [{"case": "empty batch", "status": 500, "message": "boom", "server_up": True, "ok": False}]
    assert "status 500" in reasons(report(malformed=server_error))[0]
    slow = reasons(report(load={**GOOD_LOAD, "p99_ms": 5000.0, "requests_per_second": 2.0}))
    assert any("p99 5000 ms > budget" in r for r in slow) and any("req/s < budget" in r for r in slow)
    assert "ready after 500.0 s" in reasons(report(ready_seconds=500.0))[0]


def test_malformed_requests_cover_the_issue_list() -> None:
    cases = malformed_requests({"month": 1, "origin": "JFK"}, max_batch=64)
    assert set(cases) == {"missing field", "wrong type", "unknown field", "empty batch", "oversized batch",
                          "no records key", "wrong content type", "garbage body"}
    assert len(cases["oversized batch"]["json"]["records"]) == 65
    assert "month" not in cases["missing field"]["json"]["records"][0]


def test_records_keep_every_float_exact_and_nan_as_null() -> None:
    import json

    import numpy as np
    import pandas as pd

    from include.serving.validation import records

    frame = pd.DataFrame({"price": [0.1234567890123456789, np.nan], "nights": [3, 4], "segment": ["web", None]})
    sent = json.loads(json.dumps(records(frame)))
    assert sent[0]["price"] == frame["price"][0]  # to_json would round it to 10 digits
    assert sent[1] == {"price": None, "nights": 4, "segment": None}

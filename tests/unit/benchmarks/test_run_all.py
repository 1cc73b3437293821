"""``make bench``'s table: rows, targets and verdicts from each benchmark's JSON figures (no timing here)."""

from __future__ import annotations

from benchmarks.run_all import (
    Step,
    backfill_rows,
    data_scale_rows,
    end_to_end_rows,
    machine,
    parse_rows,
    run_step,
    serving_rows,
    steps,
    storage_rows,
    training_rows,
)


def test_each_dag_file_is_compared_with_the_bare_dag_and_the_target() -> None:
    figures = {"target_seconds": 0.1, "baseline": {"seconds": 0.05},
               "files": [{"file": "dags/etl.py", "seconds": 0.08}, {"file": "dags/training.py", "seconds": 0.12}]}
    rows = parse_rows(figures)
    assert [(r.ratio, r.target, r.met) for r in rows] == [("1.60x", "<= 0.1 s", True), ("2.40x", "<= 0.1 s", False)]


def test_only_the_full_year_backfill_has_a_target() -> None:
    month = {"dag_id": "etl_flights", "runs": 30, "states": {"success": 30}, "wall_seconds": 90,
             "runs_per_minute": 20.0}
    year = {**month, "runs": 365, "wall_seconds": 1027, "runs_per_minute": 21.3}
    assert backfill_rows(month)[0].met is None
    assert (backfill_rows(year)[0].target, backfill_rows(year)[0].met) == ("<= 10 min", False)


def test_training_is_the_scheduler_against_one_process() -> None:
    row, = training_rows({"dag_id": "train_flights", "ratio": 52.9 / 41.5,
                          "scheduler": {"wall": 52.9}, "in_process": {"total": 41.5}})
    assert (row.ratio, row.target, row.met) == ("1.27x", "<= 1.1x", False)


def test_serving_targets_single_records_and_ignores_batched_requests() -> None:
    def case(records: int, clients: int, rps: float) -> dict[str, float]:
        return {"records_per_request": records, "concurrency": clients, "requests_per_second": rps, "p99_ms": 20.0}

    figures = {"bento": "flights_delay:v1",
               "bentoml": [case(1, 1, 90), case(1, 32, 250), case(16, 32, 50)],
               "bare": [case(1, 1, 100), case(1, 32, 100), case(16, 32, 40)]}
    assert [(r.target, r.met) for r in serving_rows(figures)] == [(">= 0.8x", True), (">= 2.0x", True)]


def test_without_the_stack_the_stack_steps_are_reported_not_run() -> None:
    step = Step("serving", "serving.py", (), serving_rows, needs_stack=True)
    outcome = run_step(step, stack=False)
    assert outcome.status == "not run" and "make up" in outcome.error


def test_quick_keeps_the_cheap_steps_and_full_runs_every_one() -> None:
    assert [s.name for s in steps(quick=True)] == ["dag_parse", "data_scale", "backfill_2013-01-01_2013-01-30",
                                                   "storage"]
    assert [s.name for s in steps(quick=False)] == ["dag_parse", "data_scale", "backfill_2013-01-01_2013-01-30",
                                                    "backfill_2013-01-01_2013-12-31", "storage", "training",
                                                    "end_to_end", "serving"]
    assert steps(quick=True)[1].args == ("--skip-baseline-above", "100000")


def test_the_machine_description_names_what_the_figures_depend_on() -> None:
    described = machine([1.0, 1.0, 1.0])
    assert {"cores", "ram_gib", "cpu_model", "python", "git_commit", "load_average"} <= set(described)
    assert described["cores"] >= 1 and len(described["git_commit"]) == 40


def test_data_scale_targets_the_largest_size_and_needs_same_results_where_both_ran() -> None:
    def engine(seconds: float, gb: float) -> dict[str, float]:
        return {"seconds": seconds, "rows_per_second": 1e6 / seconds, "peak_rss_gb": gb}

    figures = {"target": {"rows": 10_000_000, "seconds": 30.0, "peak_rss_gb": 2.5}, "sizes": [
        {"rows": 1_000_000, "fast": engine(4.0, 0.9), "baseline": engine(200.0, 3.0), "comparison": {"same": True}},
        {"rows": 10_000_000, "fast": engine(25.0, 1.9), "baseline": None, "baseline_skipped": "more than 1,000,000"}]}
    small, large = data_scale_rows(figures)
    assert (small.ratio, small.met) == ("0.020x", None) and "same results" in small.baseline
    assert large.met is True and large.baseline.startswith("skipped")
    figures["sizes"][0]["comparison"]["same"] = False
    assert data_scale_rows(figures)[1].met is False


def test_storage_and_end_to_end_rows_carry_their_targets() -> None:
    [storage] = storage_rows({"partitions": 365, "parquet_bytes": 20_000_000, "metadata_bytes": 2_000_000,
                              "ratio": 1.1, "target_ratio": 1.05})
    assert storage.ratio == "1.10x" and storage.met is False
    [staged] = end_to_end_rows({"day": "2013-12-31", "staged_seconds": 240.0, "target_seconds": 300})
    assert staged.value == "4.0 min" and staged.met is True
    [rejected] = end_to_end_rows({"day": "2013-12-31", "staged_seconds": None, "gate": "rejected",
                                  "target_seconds": 300})
    assert rejected.met is False and "not staged" in rejected.value

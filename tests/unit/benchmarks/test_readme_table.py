"""The README's performance table is the newest full ``make bench`` results file, rendered."""

from __future__ import annotations

import json

import pytest

from benchmarks.readme_table import END, README, REPO_ROOT, START, newest_full_results, render, replace_block

RESULTS = {"started": "2026-11-30T18:00:00", "machine": {
    "cores": 2, "ram_gib": 23.5, "cpu_model": "CPU", "python": "3.11.7", "git_commit": "commit-under-test",
    "git_dirty": False, "load_average": {"start": [1.0, 1.0, 1.0], "end": [2.5, 2.0, 1.0]}},
    "table": [{"figure": "f", "value": "1 s", "baseline": "-", "ratio": "-", "target": "<= 2 s", "met": True},
              {"figure": "g", "value": "9 s", "baseline": "3 s", "ratio": "3.00x", "target": "<= 2 s", "met": False}]}


def test_a_results_file_renders_the_machine_and_one_row_per_figure() -> None:
    block = render(RESULTS, "benchmarks/results/x.json")
    assert "2 cores, 23.5 GiB, CPU" in block and "`commit-und`" in block and "load average 1.0" in block
    assert "| f | 1 s | - | - | <= 2 s | yes |" in block and "| g | 9 s | 3 s | 3.00x | <= 2 s | **no** |" in block


def test_the_block_between_the_markers_is_replaced_and_nothing_else() -> None:
    text = f"before\n{START}\nold\n{END}\nafter\n"
    assert replace_block(text, "new") == f"before\n{START}\nnew\n{END}\nafter\n"
    with pytest.raises(SystemExit, match="no"):
        replace_block("no markers", "new")


def test_only_full_runs_count_as_results_files(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("2026-11-29.json", "2026-11-30-quick.json", "serving-2026-11-30.json", "2026-11-28.json"):
        (tmp_path / name).write_text("{}")
    monkeypatch.setattr("benchmarks.readme_table.RESULTS", tmp_path)
    assert newest_full_results().name == "2026-11-29.json"


def test_the_readme_shows_the_newest_full_results_file() -> None:
    path = newest_full_results()
    expected = render(json.loads(path.read_text()), str(path.relative_to(REPO_ROOT)))
    assert f"{START}\n{expected}\n{END}" in README.read_text(), "run make bench-readme after make bench"

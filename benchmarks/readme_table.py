"""Render a ``make bench`` results file as the README's performance table, between its markers.

The README never carries figures typed by hand for ``make bench``: this script writes the table of
a results file (the newest full run by default) and the machine it ran on between
``<!-- bench-table:start -->`` and ``<!-- bench-table:end -->``; a unit test checks that the README
matches the newest full results file.

    .venv/bin/python benchmarks/readme_table.py [benchmarks/results/<date>.json]   # make bench-readme
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "results"
README = REPO_ROOT / "README.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"
MET = {True: "yes", False: "**no**", None: "-"}
FULL_RUN = re.compile(r"\d{4}-\d{2}-\d{2}")  # <date>.json; not <date>-quick.json nor a single script's file


def newest_full_results() -> Path:
    """The newest results file of a full run: ``<date>.json`` (not ``<date>-quick.json``, nor e.g. the
    ``serving-<date>.json`` that ``serving.py`` writes beside them)."""
    full = sorted(path for path in RESULTS.glob("*.json") if FULL_RUN.fullmatch(path.stem))
    if not full:
        raise SystemExit(f"no full results file in {RESULTS}: run make bench first")
    return full[-1]


def render(results: dict[str, Any], source: str) -> str:
    """Markdown: the machine line, then one row per figure of the results' table."""
    machine = results["machine"]
    load = machine["load_average"]
    lines = [f"`make bench` of {results['started'][:16].replace('T', ' ')} (`{source}`): {machine['cores']} cores, "
             f"{machine['ram_gib']} GiB, {machine['cpu_model']}, Python {machine['python']}, commit "
             f"`{machine['git_commit'][:10]}`{' (uncommitted changes)' if machine['git_dirty'] else ''}, load "
             f"average {load['start'][0]:.1f} at the start, {load['end'][0]:.1f} at the end.", "",
             "| figure | value | baseline | ratio | target | met |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {row['figure']} | {row['value']} | {row['baseline']} | {row['ratio']} | {row['target']} | "
              f"{MET[row['met']]} |" for row in results["table"]]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """``text`` with what lies between the markers replaced by ``block``."""
    pattern = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return pattern.sub(lambda _: f"{START}\n{block}\n{END}", text)


def main() -> int:
    path = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else newest_full_results()
    block = render(json.loads(path.read_text()), str(path.relative_to(REPO_ROOT)))
    README.write_text(replace_block(README.read_text(), block))
    print(f"README.md: performance table from {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run metadata that ties data commits and model runs to the code and the Airflow run."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from include.common.metadata import RunKey

REPO_ROOT = Path(__file__).resolve().parents[2]
BRANCH_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def code_version(repo_root: Path = REPO_ROOT) -> str:
    """The project's git revision (``MLOPS_GIT_REVISION`` wins, then a ``REVISION`` file at the root, which the
    container image carries instead of ``.git``); ``-dirty`` if uncommitted edits."""
    pinned = os.environ.get("MLOPS_GIT_REVISION")
    if pinned:
        return pinned
    recorded = repo_root / "REVISION"
    if recorded.is_file():
        return recorded.read_text().strip() or "unknown"
    try:
        revision = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root, capture_output=True,
                                  text=True, check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo_root,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{revision}-dirty" if dirty else revision


def branch_name(prefix: str, run_id: str, max_length: int = 120) -> str:
    """A lakeFS-safe branch name for a run: ``<prefix>-<run id with unsafe characters as ->``."""
    safe = BRANCH_UNSAFE.sub("-", run_id).strip("-")
    return f"{prefix}-{safe}"[:max_length].rstrip("-")


def run_metadata(*, dag_id: str, run_id: str, task_id: str, logical_date: str | None,
                 interval_start: str | None, interval_end: str | None) -> dict[str, str]:
    """String-only metadata (what lakeFS commits and MLflow tags accept) for one task run."""
    metadata = {
        RunKey.DAG_ID: dag_id,
        RunKey.RUN_ID: run_id,
        RunKey.TASK_ID: task_id,
        RunKey.LOGICAL_DATE: logical_date or "",
        RunKey.INTERVAL_START: interval_start or "",
        RunKey.INTERVAL_END: interval_end or "",
        RunKey.CODE_VERSION: code_version(),
    }
    return {key: value for key, value in metadata.items() if value != ""}

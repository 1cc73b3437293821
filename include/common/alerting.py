"""Failure alert text and flood control, independent of Airflow.

A backfill of many failing days must not flood the inbox: per DAG, at most ``burst`` alerts
are sent per ``window`` seconds; the rest are counted and the next alert that goes out
reports how many were suppressed (the Airflow UI still lists every failed run).
"""

from __future__ import annotations

import fcntl
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FailureAlert:
    dag_id: str
    task_id: str
    run_id: str
    logical_date: str
    error: str
    log_url: str
    suppressed_before: int = 0

    @property
    def subject(self) -> str:
        first_line = self.error.strip().splitlines()[0] if self.error.strip() else "unknown error"
        when = self.logical_date or "manual run"
        return f"[Airflow] {self.dag_id}.{self.task_id} failed ({when}): {first_line[:120]}"

    def text(self) -> str:
        lines = [
            f"DAG: {self.dag_id}", f"Task: {self.task_id}", f"Run: {self.run_id}",
            f"Logical date: {self.logical_date or '(manual run, none)'}", f"Log: {self.log_url}",
            "", "Error:", self.error.strip(),
        ]
        if self.suppressed_before:
            lines += ["", f"({self.suppressed_before} earlier failure alerts of this DAG were suppressed "
                          "by flood control; see the Airflow UI for every failed run.)"]
        return "\n".join(lines)


@dataclass(frozen=True)
class FloodControl:
    state_file: Path
    burst: int = 3
    window: float = 600.0

    @contextmanager
    def _locked_state(self) -> Iterator[dict[str, Any]]:
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        with self.state_file.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            state: dict[str, Any] = json.loads(text) if text.strip() else {}
            yield state
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))

    def admit(self, key: str, now: float | None = None) -> tuple[bool, int]:
        """Whether an alert for ``key`` may be sent now, and how many were suppressed before it."""
        now = time.time() if now is None else now
        with self._locked_state() as state:
            entry = state.setdefault(key, {"sent": [], "suppressed": 0})
            entry["sent"] = [t for t in entry["sent"] if now - t < self.window]
            if len(entry["sent"]) >= self.burst:
                entry["suppressed"] += 1
                return False, 0
            suppressed, entry["suppressed"] = entry["suppressed"], 0
            entry["sent"].append(now)
            return True, int(suppressed)

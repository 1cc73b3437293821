"""A Bento served for real: ``bentoml serve`` from its serving environment, in a process group of its
own on a loopback port, stopped by that group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

TELEMETRY_OFF = {"BENTOML_DO_NOT_TRACK": "True", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1"}


class ServerError(RuntimeError):
    """A Bento server did not become ready."""


def serving_env(bentoml_home: Path) -> dict[str, str]:
    """The environment of every BentoML process: its store, one BLAS/OpenMP thread per worker (more
    threads than cores made BentoML 50x slower under load, GUIDE), no telemetry."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ", "TMPDIR")}
    tools = Path(sys.executable).parent  # uv, which `bentoml build` looks for on PATH
    return {**keep, "PATH": f"{tools}:{keep.get('PATH', '/usr/bin:/bin')}",
            "BENTOML_HOME": str(bentoml_home), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", **TELEMETRY_OFF}


def serve_command(environment: Path, tag: str, port: int) -> list[str]:
    return [str(environment / "bin" / "bentoml"), "serve", tag, "--host", "127.0.0.1", "--port", str(port)]


def wait_ready(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None) -> float:
    """Seconds until ``GET {url}/readyz`` answers 200; ``ServerError`` after ``timeout`` or if the process exits."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process is not None and process.poll() is not None:
            raise ServerError(f"the server exited with code {process.returncode} before it was ready")
        try:
            if requests.get(f"{url}/readyz", timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise ServerError(f"{url} was not ready within {timeout:.0f} s")


def stop_group(process: subprocess.Popen[bytes], grace_seconds: float = 15) -> None:
    """SIGTERM to the server's process group (BentoML drains in-flight requests), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    with contextlib.suppress(ProcessLookupError):  # workers left behind by a supervisor that died first
        os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class RunningBento:
    url: str
    process: subprocess.Popen[bytes]
    ready_seconds: float

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def running_bento(environment: Path, bentoml_home: Path, tag: str, port: int, ready_timeout: float,
                  log_file: Path) -> Iterator[RunningBento]:
    """Serve ``tag`` on ``127.0.0.1:port`` until the block ends; its output goes to ``log_file``."""
    with log_file.open("ab") as log:
        process = subprocess.Popen(serve_command(environment, tag, port), env=serving_env(bentoml_home),
                                   stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        yield RunningBento(url, process, wait_ready(url, ready_timeout, process))
    finally:
        stop_group(process)

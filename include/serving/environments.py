"""Serving environments: the virtualenv a Bento's processes run in, built from the Bento's own pinned
requirements (what a container image of the Bento would hold: no Airflow, nothing of this project).

Environments are cached per machine by the hash of their requirements, so every Bento of the same
model stack shares one; building one takes seconds from uv's package cache.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_ENV = "MLOPS_SERVING_ENVS"
READY_MARK = ".requirements.txt"


class ServingEnvironmentError(RuntimeError):
    """A serving environment could not be resolved or installed."""


def uv() -> str:
    """The project's uv (installed into .venv by ``make setup``), else one on PATH."""
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if not found:
        raise ServingEnvironmentError("uv is not installed: run `make setup`")
    return found


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mlops-airflow" / "serving-envs")


def run_uv(*args: str) -> str:
    result = subprocess.run([uv(), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ServingEnvironmentError(f"uv {' '.join(args[:2])} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def pin_requirements(model_requirements: str) -> str:
    """Every package the Bento needs, pinned: the model's requirements plus BentoML, resolved with
    the project's lock as constraints (the versions the tests ran with)."""
    with tempfile.TemporaryDirectory() as folder:
        wanted = Path(folder) / "requirements.in"
        wanted.write_text(f"{model_requirements.strip()}\nbentoml=={version('bentoml')}\n")
        pinned = run_uv("pip", "compile", "-q", str(wanted), "-c", str(REPO_ROOT / "requirements.lock"),
                        "--python-version", "3.11", "--no-header", "--no-annotate")
    if any(line.lower().startswith("apache-airflow") for line in pinned.splitlines()):
        raise ServingEnvironmentError("the serving requirements would install Airflow (the model requires it)")
    return pinned


def ensure_environment(requirements: str) -> Path:
    """The cached environment for ``requirements`` (pinned text), installed on first use."""
    key = hashlib.sha256(requirements.encode()).hexdigest()[:16]
    target = cache_dir() / key
    if (target / READY_MARK).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another task may be installing the same environment
        if not (target / READY_MARK).exists():
            shutil.rmtree(target, ignore_errors=True)
            requirements_file = target.parent / f"{key}.txt"
            requirements_file.write_text(requirements)
            run_uv("venv", "-q", "--python", sys.executable, str(target))
            run_uv("pip", "install", "-q", "--compile-bytecode", "--python", str(target / "bin" / "python"),
                   "-r", str(requirements_file))
            (target / READY_MARK).write_text(requirements)
    return target

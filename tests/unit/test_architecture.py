"""The layout's rules, checked on the source: domain logic in ``include/`` never imports Airflow,
stages never import each other, operator modules stay small, DAG files only wire."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

INCLUDE, PLUGINS, DAGS = REPO_ROOT / "include", REPO_ROOT / "plugins" / "mlops", REPO_ROOT / "dags"
BENTO_SOURCES = INCLUDE / "serving" / "bento"  # run inside a Bento's own environment, never imported here
STAGES = ("etl", "training", "serving", "monitoring")
MAX_OPERATOR_MODULE_LINES = 250


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (lazy imports inside functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def python_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", python_files(INCLUDE), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_include_never_imports_airflow(path: Path) -> None:
    offending = sorted(name for name in imported_modules(path) if name.split(".")[0] in {"airflow", "mlops"})
    assert offending == [], f"{path.relative_to(REPO_ROOT)} imports {offending}: include/ must not know Airflow"


def test_importing_all_of_include_loads_no_airflow() -> None:
    modules = [".".join(p.relative_to(REPO_ROOT).with_suffix("").parts) for p in python_files(INCLUDE)
               if BENTO_SOURCES not in p.parents]
    code = ("import importlib, sys\n"
            f"for name in {[m.removesuffix('.__init__') for m in modules]!r}:\n"
            "    importlib.import_module(name)\n"
            "print(sorted(m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "include" and parts[1] in STAGES else None


@pytest.mark.parametrize("path", [p for stage in STAGES for p in python_files(INCLUDE / stage)],
                         ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_a_stage_never_imports_another_stage(path: Path) -> None:
    own = path.relative_to(INCLUDE).parts[0]
    others = sorted(m for m in imported_modules(path) if stage_of(m) not in (None, own))
    assert others == [], f"{path.relative_to(REPO_ROOT)} (stage {own}) imports {others}; stages talk through " \
                         "Assets, lakeFS commits and MLflow aliases (shared contracts live in include/common)"


@pytest.mark.parametrize("path", python_files(PLUGINS / "operators"), ids=lambda p: p.name)
def test_operator_modules_stay_small_and_on_their_own_stage(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_OPERATOR_MODULE_LINES, f"{path.name}: {lines} lines; move logic into include/"
    if path.stem in STAGES:
        others = sorted(m for m in imported_modules(path) if stage_of(m) not in (None, path.stem))
        assert others == [], f"operators/{path.name} imports another stage: {others}"


@pytest.mark.parametrize("path", python_files(DAGS), ids=lambda p: p.name)
def test_dag_files_only_wire(path: Path) -> None:
    allowed = ("airflow.sdk", "mlops.factories", "include.common.usecase", "__future__", "datetime")
    top_level = {alias for node in ast.parse(path.read_text()).body if isinstance(node, ast.Import | ast.ImportFrom)
                 for alias in ([node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names])}
    unexpected = sorted(str(name) for name in top_level if not str(name).startswith(allowed))
    assert unexpected == [], f"{path.name} imports {unexpected} at module level"

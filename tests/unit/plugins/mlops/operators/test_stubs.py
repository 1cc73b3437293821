"""The operator tests' fakes speak the real hooks' API: every hook member the operators use exists on
the fake, and every fake method has the real method's parameters."""

from __future__ import annotations

import inspect
import re

import pytest

from mlops.hooks.lakefs import LakeFSHook
from mlops.hooks.mlflow import MlflowHook
from tests.conftest import REPO_ROOT
from tests.unit.plugins.mlops.operators.stubs import FakeLakeFS, FakeMlflowHook

OPERATORS = sorted((REPO_ROOT / "plugins" / "mlops" / "operators").glob("*.py"))
USES = {"lakefs": re.compile(r"\b(?:hook|lakefs\(usecase\))\.(\w+)"), "mlflow": re.compile(r"\bmlflow\.(\w+)")}


def used_members(kind: str) -> set[str]:
    return {name for path in OPERATORS for name in USES[kind].findall(path.read_text())}


def parameters(function: object) -> list[tuple[str, object, object]]:
    """Names, kinds and defaults (annotations aside: the fakes return plain objects)."""
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "fake", "real"), [("lakefs", FakeLakeFS(), LakeFSHook),
                                                    ("mlflow", FakeMlflowHook(), MlflowHook)], ids=["lakefs", "mlflow"])
def test_the_fake_has_every_hook_member_the_operators_use(kind: str, fake: object, real: type) -> None:
    used = used_members(kind)
    assert {"get_conn", "ui_url"} <= used if kind == "mlflow" else {"merge", "find_merge", "commit_once"} <= used
    assert sorted(name for name in used if not hasattr(real, name)) == []  # the pattern finds hook members only
    assert sorted(name for name in used if not hasattr(fake, name)) == []


@pytest.mark.parametrize(("fake", "real"), [(FakeLakeFS, LakeFSHook), (FakeMlflowHook, MlflowHook)],
                         ids=["lakefs", "mlflow"])
def test_every_fake_method_has_the_real_hooks_parameters(fake: type, real: type) -> None:
    methods = {name: member for name, member in vars(fake).items() if callable(member) and not name.startswith("_")}
    mismatched = {name: (parameters(method), parameters(getattr(real, name)) if hasattr(real, name) else "missing")
                  for name, method in methods.items()
                  if not hasattr(real, name) or parameters(method) != parameters(getattr(real, name))}
    assert mismatched == {}

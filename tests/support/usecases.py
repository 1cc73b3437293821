"""Use-case files written for a test, found through the extra use-case folders."""

from __future__ import annotations

from pathlib import Path

import pytest


def auto_approving_usecase(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy of flights named ``flights_auto`` asking for ``serving.auto_approve``."""
    from include.common.usecase import USECASES_DIR, load_usecase_file

    text = (USECASES_DIR / "flights.yaml").read_text().replace("name: flights\n", "name: flights_auto\n")
    text = text.replace("auto_approve: false", "auto_approve: true")
    text = text.replace("suite: flights.expectations.json", f"suite: {USECASES_DIR / 'flights.expectations.json'}")
    (folder / "flights_auto.yaml").write_text(text)
    monkeypatch.setenv("MLOPS_EXTRA_USECASE_DIRS", str(folder))
    load_usecase_file.cache_clear()

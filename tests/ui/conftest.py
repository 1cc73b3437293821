"""The ``ui`` tier's browser: Debian's Chromium driven by Playwright for Python, logged into the test
stack's Airflow UI. Every step leaves a screenshot in ``tests/ui/artifacts/`` (emptied when the tier
starts); a failing test also leaves the page's HTML and the browser's console log there.

``make docs-screenshots`` (``MLOPS_UI_DOCS=1``) copies the screenshots the operator's guide shows into
``docs/images/`` once every test of the tier has passed.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.airflow_api import AirflowApi
from scripts.stack import StackConfig
from tests.conftest import REPO_ROOT, StackController, tier_of

CHROMIUM = Path(os.environ.get("MLOPS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = REPO_ROOT / "tests" / "ui" / "artifacts"
DOC_IMAGES = REPO_ROOT / "docs" / "images"
VIEWPORT: Any = {"width": 1440, "height": 900}
TIMEOUT_MS = 30_000  # one UI action or assertion; runs are awaited separately


class Browser:
    """One logged-in page plus its evidence: numbered screenshots, console messages, popups."""

    def __init__(self, page: Any, stack: StackConfig) -> None:
        self.page = page
        self.stack = stack
        self.console: list[str] = []
        self.shots: list[Path] = []
        page.on("console", lambda message: self.console.append(f"[{message.type}] {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"[pageerror] {error}"))

    @property
    def base(self) -> str:
        return self.stack.airflow_url.rstrip("/")

    def open(self, path: str) -> None:
        self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("networkidle")

    def login(self) -> None:
        """Airflow's login form (Simple auth manager: fields ``username`` / ``password``)."""
        self.page.goto(f"{self.base}/auth/login")
        self.page.fill("input[name=username]", self.stack.admin_user)
        self.page.fill("input[name=password]", self.stack.admin_password)
        self.shot("login")
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(lambda url: "/auth/login" not in url)

    def shot(self, name: str, page: Any = None, full_page: bool = False) -> Path:
        """Screenshot ``page`` (default: the main page) as ``NN-name.png``."""
        path = ARTIFACTS / f"{len(self.shots) + 1:02d}-{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=full_page)
        self.shots.append(path)
        return path

    def save_failure(self, test_name: str) -> None:
        stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name)
        for index, page in enumerate(self.page.context.pages):
            suffix = "" if index == 0 else f"-tab{index}"
            try:
                (ARTIFACTS / f"FAILED-{stem}{suffix}.html").write_text(page.content())
                page.screenshot(path=str(ARTIFACTS / f"FAILED-{stem}{suffix}.png"), full_page=True)
            except Exception as error:  # noqa: BLE001 - evidence is best effort; the test already failed
                (ARTIFACTS / f"FAILED-{stem}{suffix}.txt").write_text(f"could not save the page: {error!r}\n")
        (ARTIFACTS / f"FAILED-{stem}-console.log").write_text("\n".join(self.console) + "\n")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    if report.failed:
        browser = getattr(item.session, "ui_browser", None)
        if browser is not None:
            browser.save_failure(item.name)
        item.session.ui_failed = True  # type: ignore[attr-defined]


@pytest.fixture(scope="session", autouse=True)
def empty_stack(request: pytest.FixtureRequest, stack_controller: StackController, airflow_api: AirflowApi) -> None:
    """The tier drives the UI as an operator of a new stack would: when earlier tiers of this session used
    the stack, their runs, models, served versions and data would be on the pages and in the way (a
    champion the challenger must beat, other deployments' runs), so the stack is emptied and restarted
    first (same ports and credentials; one restart, about a minute on an idle machine)."""
    if {tier_of(item) for item in request.session.items} & {"integration", "e2e", "faults"}:
        stack_controller.down()
        stack_controller.clean()
        stack_controller.up()
        airflow_api.authenticate()


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: the ui tier drives Debian's browser. Install it with "
                    "`apt-get install -y chromium` (make setup does), or point MLOPS_CHROMIUM at a Chromium binary.",
                    pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def ui(request: pytest.FixtureRequest, stack: StackConfig, chromium_path: Path) -> Iterator[Browser]:
    """A Chromium page logged into the test stack's Airflow as ``admin``."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed in .venv: run `make setup` (requirements.lock pins it)",
                    pytrace=False)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=["--no-sandbox"])
        # The flights source runs in New York: the UI shows and takes dates in the browser's zone
        context = browser.new_context(viewport=VIEWPORT, timezone_id="America/New_York", locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        session = Browser(context.new_page(), stack)
        request.session.ui_browser = session  # type: ignore[attr-defined]
        try:
            session.login()
            yield session
        finally:
            request.session.ui_browser = None  # type: ignore[attr-defined]
            context.close()
            browser.close()
    if os.environ.get("MLOPS_UI_DOCS") == "1":
        if getattr(request.session, "ui_failed", False):
            pytest.fail("MLOPS_UI_DOCS=1: a ui test failed, docs/images/ left as it was", pytrace=False)
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        for old in DOC_IMAGES.glob("*.png"):
            old.unlink()
        for shot in session.shots:
            shutil.copy2(shot, DOC_IMAGES / re.sub(r"^\d+-", "", shot.name))

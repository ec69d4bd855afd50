"""Browser tests: Debian's Chromium, headless, driven by selenium through the system's chromedriver.

`make test` installs `chromium` and `chromium-driver` when they are missing. The mock and a
small game website (game.py) run on 127.0.0.1 on free ports and stop with the session.
Screenshots go to test-artifacts/screenshots/ (git-ignored), one file per step, named after
the test; each path is printed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from xsolla_contract.mocks import MockConfig, create_app, engine_of
from xsolla_contract.mocks.control import initialise
from xsolla_contract.toolkit.testing import MockServer

from .game import game_app

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,1000",
)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session (a fresh profile, removed afterwards)."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if missing:
        pytest.fail(
            f"browser tests need {' and '.join(missing)}: `make test` installs Debian's chromium and "
            "chromium-driver (or set CHROMIUM / CHROMEDRIVER)"
        )
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium never downloads a browser or a driver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="xsolla-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """The browser with one blank tab; a screenshot of every window is kept when the test fails."""
    while len(browser.window_handles) > 1:
        browser.switch_to.window(browser.window_handles[-1])
        browser.close()
    browser.switch_to.window(browser.window_handles[0])
    browser.get("about:blank")
    browser.get_log("browser")  # drop what earlier tests logged
    yield browser
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for n, handle in enumerate(browser.window_handles):
            browser.switch_to.window(handle)
            screenshot(browser, request, f"failed-window{n}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report


def screenshot(driver, request: pytest.FixtureRequest, step: str) -> Path:
    """Save what the browser shows as test-artifacts/screenshots/<test>-<step>.png and print the path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{request.node.name}-{step}").strip("-")
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    print(f"screenshot: {path}")
    return path


@pytest.fixture
def shot(page, request: pytest.FixtureRequest):
    """`shot("step")` saves a screenshot of the current page for this test."""
    return lambda step: screenshot(page, request, step)


@pytest.fixture(scope="session")
def _mock_server(spec) -> Iterator[tuple[object, MockServer]]:
    app = create_app(spec, config=MockConfig(seed=1))
    with MockServer(app) as server:
        yield app, server


@pytest.fixture
def mock(_mock_server):
    """The seeded mock on 127.0.0.1 (state, clock and journal back to the start for each test)."""
    app, server = _mock_server
    engine = engine_of(app)
    initialise(engine, force=True)
    yield server
    server.raise_errors()


@pytest.fixture(scope="session")
def _game_server() -> Iterator[tuple[object, MockServer]]:
    app = game_app()
    with MockServer(app) as server:
        yield app, server


@pytest.fixture
def game(_game_server):
    """The game's website on 127.0.0.1 (another origin than the mock): `.url`, `.returns`."""
    app, server = _game_server
    app.config["RETURNS"].clear()
    server.returns = app.config["RETURNS"]
    yield server
    server.raise_errors()

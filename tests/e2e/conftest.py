"""Fixtures of the browser tests: the running stack, a headless Chromium, screenshots.

Run them with scripts/e2e (not part of scripts/test). Every step saves a screenshot in one
temporary folder; its path is printed at the start, and again with the last screenshot when a
test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path
import re
import shutil
import tempfile
from typing import Any

from playwright.sync_api import BrowserContext, Page, expect, sync_playwright
import pytest

from .stack import PASSWORD, USER, Stack

CHROMIUM = os.environ.get("EWELINK_E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
expect.set_options(timeout=30_000)


class Screens:
    """Numbered screenshots of every step, in one folder."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="ewelink-e2e-screens-"))
        self.count = 0
        self.last: Path | None = None
        self.page: Page | None = None

    def __call__(self, name: str, page: Page | None = None) -> Path:
        """Save a screenshot of the page (or the given one)."""
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        target = page or self.page
        assert target is not None
        target.screenshot(path=str(path))
        self.last = path
        return path


@pytest.fixture(scope="session")
def screens() -> Screens:
    """The screenshot folder of this run."""
    shots = Screens()
    print(f"\n[e2e] screenshots: {shots.folder}")  # noqa: T201
    return shots


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """scripts/develop on free ports (or the instance named by EWELINK_E2E_ATTACH)."""
    if attach := os.environ.get("EWELINK_E2E_ATTACH"):
        yield Stack.attach(attach)
        return
    running = Stack.start()
    try:
        yield running
    finally:
        running.stop()
        if os.environ.get("EWELINK_E2E_KEEP") is None:
            shutil.rmtree(running.config, ignore_errors=True)


@pytest.fixture(scope="session")
def context() -> Iterator[BrowserContext]:
    """Debian's Chromium, headless, with a fresh profile."""
    profile = tempfile.mkdtemp(prefix="ewelink-e2e-profile-")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        try:
            yield browser
        finally:
            browser.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def page(context: BrowserContext, stack: Stack, screens: Screens) -> Page:
    """One tab, signed in to Home Assistant as the development user."""
    tab = context.new_page()
    screens.page = tab
    tab.goto(f"{stack.ha_url}/")
    tab.get_by_label("Username").fill(USER)
    tab.get_by_label("Password", exact=True).fill(PASSWORD)
    screens("login page")
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r".*/(home|lovelace).*"))
    expect(tab.get_by_text("Settings", exact=True).first).to_be_visible()
    screens("signed in")
    return tab


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """On a failure, save what the browser shows and print where the screenshots are."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    shots: Screens | None = getattr(item, "funcargs", {}).get("screens")
    if shots is None:
        return
    try:
        shots(f"failed {item.name}")
    except Exception as err:  # noqa: BLE001  the report must not fail because of a screenshot
        report.sections.append(("e2e", f"no failure screenshot: {err}"))
    report.sections.append(("e2e screenshots", f"folder: {shots.folder}\nlast: {shots.last}"))
    print(f"\n[e2e] FAILED {item.name}; screenshots in {shots.folder}, last: {shots.last}")  # noqa: T201

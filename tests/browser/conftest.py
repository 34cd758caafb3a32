"""Fixtures for the browser tests: the real stack (as the integration tests start it)
and headless Chromium driven by Selenium through the system's chromedriver.

Nothing is downloaded: the browser and its driver come from the system
(`apt-get install chromium chromium-driver`); without them the tests are skipped
(tests/browser/page.py).
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.chromium import chromium_paths
from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """PostgreSQL, Redis, gunicorn, the Celery workers and beat, for this module's tests."""
    with running_stack("browser") as running:
        yield running


@pytest.fixture
def browser():
    """A fresh headless Chromium (new profile: empty sessionStorage) per test. The page's
    console is printed at the end, so a failing test shows the browser's errors."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium_paths()
    options = Options()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        try:
            for entry in driver.get_log("browser"):
                print(f"[browser {entry['level']}] {entry['message']}")
        except Exception:  # the log is a help, never a failure
            pass
        driver.quit()


def pytest_collection_modifyitems(items):
    # Like the integration tests, they cross processes: `-m "not integration"` leaves them out.
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.integration)

"""Where the system's Chromium and chromedriver are, for the browser tests (nothing is
downloaded: `apt-get install chromium chromium-driver`), and the skip without them."""
from __future__ import annotations

import os
import shutil

import pytest

BROWSER_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)
DRIVER_PATHS = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver", "/usr/lib/chromium-browser/chromedriver")


def _on_path(names: tuple[str, ...], paths: tuple[str, ...] = ()) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((path for path in paths if os.access(path, os.X_OK)), None)


def chromium_paths() -> tuple[str | None, str | None]:
    """(the Chromium binary, chromedriver), each None when missing."""
    return _on_path(BROWSER_NAMES), _on_path(DRIVER_NAMES, DRIVER_PATHS)


def skip_without_chromium() -> None:
    """Skip the test module being imported when Chromium, chromedriver or Selenium is
    missing (as on CI), with the reason."""
    binary, driver = chromium_paths()
    if binary is None or driver is None:
        pytest.skip("Chromium is not installed (apt-get install chromium chromium-driver): browser test skipped",
                    allow_module_level=True)
    pytest.importorskip("selenium", reason="Selenium is not installed (pip install -r requirements-dev.txt): "
                                           "browser test skipped")

"""Where the system's Chromium and chromedriver are, for the browser tests (nothing is
downloaded: `apt-get install chromium chromium-driver`)."""
from __future__ import annotations

import os
import shutil

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

"""The playground page as the browser tests drive it: waits, fields, figures, registering
through the form, screenshots. Importing it skips the test module when Chromium,
chromedriver or Selenium is missing, so test modules import it before Selenium."""
from __future__ import annotations

import uuid

from tests.support.chromium import skip_without_chromium

skip_without_chromium()

from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

PASSWORD = "parlons-playground"


def wait(browser, seconds: float = 30) -> WebDriverWait:
    """A wait that looks again when the page re-renders what it was reading (a live
    event redraws lists while the test reads them)."""
    return WebDriverWait(browser, seconds, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,))


def by_id(browser, element_id: str):
    return browser.find_element(By.ID, element_id)


def fill(browser, element_id: str, text: str) -> None:
    field = by_id(browser, element_id)
    field.clear()
    field.send_keys(text)


def figures(browser, element_id: str) -> dict[str, str]:
    """A <dl>'s terms and values."""
    terms = by_id(browser, element_id).find_elements(By.TAG_NAME, "dt")
    values = by_id(browser, element_id).find_elements(By.TAG_NAME, "dd")
    return {term.text: value.text for term, value in zip(terms, values)}


def register(browser, stack, *, display_name: str = "Browser learner") -> str:
    """Open the page and register a new learner through the form; their email."""
    browser.get(stack.base_url + "/")
    wait(browser).until(EC.visibility_of_element_located((By.ID, "register-form")))
    email = f"browser-{uuid.uuid4().hex[:10]}@example.com"
    fill(browser, "register-email", email)
    fill(browser, "register-password", PASSWORD)
    fill(browser, "register-name", display_name)
    Select(by_id(browser, "register-level")).select_by_value("A1")
    Select(by_id(browser, "register-native")).select_by_value("en")
    by_id(browser, "register-submit").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "app")))
    wait(browser).until(lambda b: "camille" in [o.get_attribute("value") for o in
                                                Select(by_id(b, "chat-character")).options])
    return email


def screenshot(browser, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path))
    assert path.exists() and path.stat().st_size > 0

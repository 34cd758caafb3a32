"""The playground's Classes tab (api/playground/static/classes.js) in headless Chromium
against the real stack: a teacher makes a class and reads its invite code on the page, a
learner joins with it over the API and reviews a card, and the teacher finds them on the
roster, opens them and sees their stats; their letters show once the learner shares them.

Skipped, with the reason, when Chromium, chromedriver or Selenium is not installed.
"""
from __future__ import annotations

from tests.browser.page import by_id, figures, fill, register, screenshot, wait  # first: it skips without Chromium

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC

from tests.support.classes import make_class, teacher
from tests.support.client import register as register_over_api
from tests.support.stack import REPO

SCREENSHOT = REPO / ".data" / "browser" / "classes.png"
LETTER = "Chère Camille, je t'écris de Lyon. Il fait beau et je vais au musée avec ma sœur demain."


def roster_entry(browser, user_id: str):
    return browser.find_element(By.CSS_SELECTOR, f'[data-testid="roster-student"][data-user-id="{user_id}"]')


def test_a_teacher_makes_a_class_and_sees_a_students_stats_and_shared_letters(stack, browser):
    email = register(browser, stack, display_name="Mme Browser")
    assert stack.flask("users", "set-role", email, "teacher").returncode == 0

    by_id(browser, "tab-classes").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "class-create-form")))  # the role, read again
    fill(browser, "class-name", "Seconde A")
    by_id(browser, "class-create").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "class-title"), "Seconde A"))
    code = wait(browser).until(lambda b: by_id(b, "class-code").text)
    assert len(code) >= 16

    zoe = register_over_api(stack.base_url, stack.ws_url, display_name="Zoé")
    assert zoe.post("/api/v1/classes/join", {"code": code}).status_code == 200
    word = zoe.get("/api/v1/progress/queue?limit=0&new_limit=1").json()["new"][0]
    assert zoe.post("/api/v1/progress/review", {"word_id": word["word_id"], "rating": 2}).status_code == 200

    by_id(browser, "roster-reload").click()
    entry = wait(browser).until(lambda b: roster_entry(b, zoe.user["id"]))
    assert "Zoé" in entry.text
    entry.find_element(By.TAG_NAME, "button").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "student-name"), "Zoé"))
    wait(browser).until(lambda b: figures(b, "student-stats").get("Reviews today") == "1")
    assert figures(browser, "student-stats")["Cards"]
    wait(browser).until(lambda b: figures(b, "student-analytics").get("Reviews") == "1")
    assert figures(browser, "student-journey")["Answers"] == "0"
    wait(browser).until(EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="letters-not-shared"]')))

    assert zoe.patch("/api/v1/auth/me", {"share_letters_with_teachers": True}).status_code == 200
    assert zoe.post("/api/v1/penpal/letters", {"character_id": "camille", "body": LETTER}).status_code == 201
    roster_entry(browser, zoe.user["id"]).find_element(By.TAG_NAME, "button").click()
    letter = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, '[data-testid="student-letter"][data-author="learner"]')))
    assert "je t'écris de Lyon" in letter.text
    screenshot(browser, SCREENSHOT)
    assert by_id(browser, "classes-error").get_attribute("hidden") is not None  # no error shown on the way


def test_a_learner_joins_with_the_code_and_shares_their_letters(stack, browser):
    mme = teacher(stack, display_name="M. Api")
    made = make_class(mme, "Terminale B")
    register(browser, stack, display_name="Browser student")

    by_id(browser, "tab-classes").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "class-list"), "No class yet"))
    assert not by_id(browser, "class-create-form").is_displayed()  # a learner makes no class
    assert not by_id(browser, "share-letters").is_selected()  # off by default
    fill(browser, "class-join-code", made["invite_code"])
    by_id(browser, "class-join").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "class-list"), "Terminale B"))
    [student] = mme.get(f"/api/v1/classes/{made['id']}/students").json()["items"]
    letters = f"/api/v1/classes/{made['id']}/students/{student['user_id']}/letters"
    assert mme.get(letters).status_code == 404

    by_id(browser, "share-letters").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "share-status"), "Your teachers can read"))
    assert mme.get(letters).status_code == 200
    by_id(browser, "share-letters").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "share-status"), "Your letters are private"))
    assert mme.get(letters).status_code == 404

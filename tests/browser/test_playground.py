"""The playground page (`/`, api/playground/) in headless Chromium against the real stack.

What is tested, through the page only (it uses nothing but the public API and sockets):
- a newcomer registers through the form and starts a story conversation with Camille;
  a message with a mistake gets the mistake highlighted in the learner's bubble (from the
  `grammar_feedback` event, with its explanation below), and the character's reply
  streams in (`reply_delta`) and is finished by `turn_result`; a screenshot is saved to
  `.data/browser/playground.png`;
- an API error (a too-short password) is shown to the learner;
- a Journey question is answered and its score appears (`journey_scored` on /api/v1/ws);
- a flashcard is reviewed, and a penpal letter gets its reply live (`penpal_reply`) and
  is marked read;
- a reload keeps the learner signed in, refreshing a refused access token
  (POST /auth/refresh), and shows the conversation again from the session's recent turns;
- a story conversation opens with the character's greeting and offers target words as
  chips; two turns with the same mistake ("je ai"), the header's counter, the
  `achievement_unlocked` toast ("first_turn"), "End conversation" and its summary card
  (`.data/browser/summary.png`); the Notebook tab lists the pattern and drills it, the
  analyzer checking the answer (`.data/browser/notebook.png`); after a flashcard review
  the Progress tab draws its SVG charts with data points, the CEFR estimate and the
  unlocked achievement (`.data/browser/progress.png`).

Skipped, with the reason, when Chromium, chromedriver or Selenium is not installed.
"""
from __future__ import annotations

import uuid

from tests.browser.page import by_id, figures, fill, register, screenshot, wait  # first: it skips without Chromium

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.support.stack import REPO

SCREENSHOT = REPO / ".data" / "browser" / "playground.png"
SUMMARY_SCREENSHOT = REPO / ".data" / "browser" / "summary.png"
NOTEBOOK_SCREENSHOT = REPO / ".data" / "browser" / "notebook.png"
PROGRESS_SCREENSHOT = REPO / ".data" / "browser" / "progress.png"
SAME_MISTAKE = ["Je ai un chat noir.", "Hier, je ai mangé une pomme."]  # "je ai" twice: an error card
MESSAGE = "Je suis allé au marché hier avec mes amie."


def test_chat_highlights_the_mistake_and_streams_the_reply(stack, browser):
    register(browser, stack)
    assert "Browser learner" in by_id(browser, "whoami").text
    Select(by_id(browser, "chat-character")).select_by_value("camille")
    Select(by_id(browser, "chat-level")).select_by_value("A2")
    by_id(browser, "chat-start").click()
    wait(browser).until(EC.text_to_be_present_in_element_attribute(
        (By.ID, "session-socket-status"), "data-state", "open"))
    assert "Camille" in by_id(browser, "chat-title").text

    fill(browser, "chat-input", MESSAGE)
    by_id(browser, "chat-send").click()

    def finished_turn(b):
        turns = b.find_elements(By.CSS_SELECTOR, "#chat-log [data-testid=turn][data-turn-id]")
        if not turns:
            return False
        turn = turns[-1]
        marks = turn.find_elements(By.CSS_SELECTOR, "[data-testid=learner-message] mark.grammar-error")
        reply = turn.find_element(By.CSS_SELECTOR, "[data-testid=character-reply]")
        if any("amie" in mark.text for mark in marks) and reply.get_attribute("data-status") == "complete" \
                and reply.text.strip():
            return turn
        return False

    turn = wait(browser).until(finished_turn)
    learner = turn.find_element(By.CSS_SELECTOR, "[data-testid=learner-message]")
    assert learner.text == MESSAGE  # the highlights keep the text as written
    mark = next(m for m in learner.find_elements(By.CSS_SELECTOR, "mark.grammar-error") if "amie" in m.text)
    assert mark.get_attribute("title"), "the explanation is the highlight's tooltip"
    assert mark.get_attribute("data-category")
    feedback = turn.find_element(By.CSS_SELECTOR, "[data-testid=grammar-feedback]")
    assert feedback.is_displayed() and "amies" in feedback.text  # the suggestion, visible below
    reply = turn.find_element(By.CSS_SELECTOR, "[data-testid=character-reply]")
    assert int(reply.get_attribute("data-deltas") or 0) >= 1, "the reply streamed in as reply_delta events"
    assert turn.get_attribute("data-moderation") == "clear"
    assert not turn.find_element(By.CSS_SELECTOR, "[data-testid=moderation-notice]").is_displayed()
    assert "XP" in turn.find_element(By.CSS_SELECTOR, ".turn-meta").text

    # A hint: suggestions appear, and one click puts one in the input.
    by_id(browser, "chat-hint").click()
    hint = wait(browser).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#hint-list [data-testid=hint]")))
    suggestion = hint.text
    hint.click()
    assert by_id(browser, "chat-input").get_attribute("value") == suggestion

    screenshot(browser, SCREENSHOT)


def test_an_api_error_is_shown(stack, browser):
    browser.get(stack.base_url + "/")
    wait(browser).until(EC.visibility_of_element_located((By.ID, "register-form")))
    fill(browser, "register-email", f"short-{uuid.uuid4().hex[:8]}@example.com")
    fill(browser, "register-password", "short")
    fill(browser, "register-name", "Short")
    by_id(browser, "register-submit").click()
    error = wait(browser).until(EC.visibility_of_element_located((By.ID, "auth-error")))
    assert "password" in error.text
    assert not by_id(browser, "app").is_displayed()


def test_journey_answer_gets_a_score(stack, browser):
    register(browser, stack)
    by_id(browser, "tab-journey").click()
    wait(browser).until(lambda b: by_id(b, "journey-prompt").text.strip())
    assert by_id(browser, "journey-points").find_elements(By.TAG_NAME, "li")
    fill(browser, "journey-answer", "Bonjour ! Je m'appelle Marie et je viens de Lyon, en France. "
                                    "J'habite à Paris depuis deux ans avec ma famille.")
    by_id(browser, "journey-submit").click()
    wait(browser).until(EC.text_to_be_present_in_element_attribute((By.ID, "journey-score"), "data-state", "scored"))
    score = by_id(browser, "journey-score")
    assert "/ 100" in score.text
    assert 0 <= int(score.get_attribute("data-score")) <= 100
    wait(browser).until(lambda b: figures(b, "journey-progress").get("Answers") == "1")


def test_flashcard_review_and_penpal_reply(stack, browser):
    register(browser, stack)

    by_id(browser, "tab-flashcards").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "card-front")))
    lemma = wait(browser).until(lambda b: by_id(b, "card-front").text)
    by_id(browser, "card-show").click()
    assert by_id(browser, "card-translation").text
    by_id(browser, "rate-good").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "card-last"), f"«{lemma}»: Good"))

    by_id(browser, "tab-penpal").click()
    Select(by_id(browser, "letter-character")).select_by_value("camille")
    fill(browser, "letter-subject", "Bonjour de Lyon")
    fill(browser, "letter-body", "Chère Camille, je voudrais visiter ton café à Montmartre le mois prochain.")
    by_id(browser, "letter-send").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "letter-status"), "Sent."))
    # The test stack answers two seconds later; the reply comes live as penpal_reply.
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "letter-status"), "has arrived"))
    # Each step finds the letter again: the thread list is redrawn as events arrive.
    letter = (By.CSS_SELECTOR, "#penpal-threads [data-testid=letter][data-author=character]")
    wait(browser).until(lambda b: b.find_element(*letter).get_attribute("data-unread") == "true")
    assert wait(browser).until(lambda b: b.find_element(*letter).find_element(By.CSS_SELECTOR, ".letter-body").text)
    wait(browser).until(lambda b: b.find_element(*letter).find_element(
        By.CSS_SELECTOR, "[data-testid=mark-read]").click() or True)
    wait(browser).until(lambda b: b.find_element(*letter).get_attribute("data-unread") == "false")


def test_a_reload_resumes_the_conversation_and_refreshes_the_token(stack, browser):
    register(browser, stack)
    Select(by_id(browser, "chat-character")).select_by_value("camille")
    by_id(browser, "chat-start").click()
    wait(browser).until(EC.text_to_be_present_in_element_attribute(
        (By.ID, "session-socket-status"), "data-state", "open"))
    fill(browser, "chat-input", MESSAGE)
    by_id(browser, "chat-send").click()
    wait(browser).until(lambda b: completed_turns(b) == 1)

    # The access token goes bad (as an expired one would): the page refreshes it on the 401.
    browser.execute_script("""
        const kept = JSON.parse(sessionStorage.getItem("parlons.playground"));
        kept.access = "not-a-token";
        sessionStorage.setItem("parlons.playground", JSON.stringify(kept));""")
    browser.refresh()
    wait(browser).until(EC.text_to_be_present_in_element_attribute(
        (By.ID, "session-socket-status"), "data-state", "open"))
    assert by_id(browser, "app").is_displayed()
    kept = browser.execute_script('return JSON.parse(sessionStorage.getItem("parlons.playground"))')
    assert kept["access"] != "not-a-token"
    # The conversation is shown again from the session's recent turns: the greeting, then the
    # learner's turn with its highlights.
    turns = browser.find_elements(By.CSS_SELECTOR, "#chat-log [data-testid=turn]")
    assert "greeting" in turns[0].get_attribute("class").split()
    assert turns[0].find_element(By.CSS_SELECTOR, "[data-testid=character-reply]").text.strip()
    turn = browser.find_element(By.CSS_SELECTOR, "#chat-log [data-testid=turn]:not(.greeting)")
    assert any("amie" in mark.text for mark in turn.find_elements(By.CSS_SELECTOR, "mark.grammar-error"))
    reply = turn.find_element(By.CSS_SELECTOR, "[data-testid=character-reply]")
    assert reply.get_attribute("data-status") == "complete" and reply.text.strip()


def completed_turns(browser) -> int:
    selector = "#chat-log [data-testid=turn]:not(.greeting) [data-testid=character-reply][data-status=complete]"
    return len(browser.find_elements(By.CSS_SELECTOR, selector))


def chat(browser, message: str) -> None:
    """Send a message and wait for its turn to finish."""
    before = completed_turns(browser)
    fill(browser, "chat-input", message)
    by_id(browser, "chat-send").click()
    wait(browser).until(lambda b: completed_turns(b) == before + 1)


def reload_until(browser, button_id: str, selector: str, seconds: float = 30):
    """Press a Reload button until `selector` shows (work done by a background task)."""
    def shown(b):
        found = [e for e in b.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()]
        if found:
            return found[0]
        by_id(b, button_id).click()
        return False
    return WebDriverWait(browser, seconds, poll_frequency=1).until(shown)


def test_summary_notebook_achievements_and_progress_charts(stack, browser):
    register(browser, stack)
    Select(by_id(browser, "chat-character")).select_by_value("camille")
    by_id(browser, "chat-start").click()
    wait(browser).until(EC.text_to_be_present_in_element_attribute(
        (By.ID, "session-socket-status"), "data-state", "open"))

    # The character speaks first, and the conversation offers words to practise.
    greeting = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, "#chat-log [data-testid=turn].greeting [data-testid=character-reply][data-status=complete]")))
    assert greeting.text.strip()
    chips = browser.find_elements(By.CSS_SELECTOR, "#target-list [data-testid=target-word]")
    assert chips and all(chip.text for chip in chips)
    chips[0].click()
    assert chips[0].text in by_id(browser, "chat-input").get_attribute("value")

    chat(browser, SAME_MISTAKE[0])
    # The first finished turn unlocks "first_turn": a toast, and the XP badge refreshes.
    toast = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, "#toasts [data-testid=toast][data-kind=achievement]")))
    assert "unlocked" in toast.text
    wait(browser).until(lambda b: by_id(b, "user-xp").text != "0 XP")
    chat(browser, SAME_MISTAKE[1])
    wait(browser).until(EC.text_to_be_present_in_element_attribute((By.ID, "chat-counter"), "data-turns", "2"))
    assert "2 turn" in by_id(browser, "chat-counter").text

    # End the conversation: the summary card, with the right turn count and the mistake.
    by_id(browser, "chat-end").click()
    summary = wait(browser).until(EC.visibility_of_element_located((By.ID, "session-summary")))
    wait(browser).until(EC.text_to_be_present_in_element_attribute((By.ID, "session-summary"), "data-final", "true"))
    assert summary.get_attribute("data-turns") == "2"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=summary-turns]").text == "2"
    assert "je ai" in by_id(browser, "summary-details").text.lower()
    assert by_id(browser, "chat-input").get_attribute("disabled") is not None, "an ended conversation takes no more"
    browser.execute_script("arguments[0].scrollIntoView()", summary)
    screenshot(browser, SUMMARY_SCREENSHOT)

    # The notebook: the pattern (made in two turns: a card) and its drill.
    by_id(browser, "tab-notebook").click()
    reload_until(browser, "notebook-reload", "#drill[data-pattern-id]")
    pattern = wait(browser).until(EC.visibility_of_element_located(
        (By.CSS_SELECTOR, "#notebook-patterns [data-testid=pattern][data-state=card]")))
    assert "je ai" in pattern.text.lower() and pattern.get_attribute("data-occurrences") == "2"
    assert len(pattern.find_elements(By.CSS_SELECTOR, ".examples li")) == 2
    assert "je ai" in by_id(browser, "drill-wrong").text.lower()
    fill(browser, "drill-answer", "J'ai faim.")
    by_id(browser, "drill-submit").click()
    result = wait(browser).until(EC.visibility_of_element_located((By.ID, "drill-result")))
    assert result.get_attribute("data-correct") == "true" and "Correct" in result.text
    screenshot(browser, NOTEBOOK_SCREENSHOT)

    # A flashcard review, for the reviews chart.
    by_id(browser, "tab-flashcards").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "card-show"))).click()
    by_id(browser, "rate-good").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "card-last"), "Good"))

    # Progress: the charts have data points; the achievement is unlocked in the list.
    by_id(browser, "tab-progress").click()
    bar = wait(browser).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "[data-testid=svg-reviews] rect[data-series=flashcards]")))
    assert int(bar.get_attribute("data-value")) >= 1
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=svg-reviews]").get_attribute("role") == "img"
    assert browser.find_element(By.CSS_SELECTOR, "[data-testid=svg-reviews] > title").get_attribute(
        "textContent") == "Reviews per day"
    practice = browser.find_elements(By.CSS_SELECTOR, "[data-testid=svg-practice] rect[data-series=turns]")
    # Today's bar: the learner's two turns (the character's greeting is not one).
    assert len(practice) == 1 and int(practice[0].get_attribute("data-value")) == 2
    for chart in ("words-known", "cards", "streak"):
        assert browser.find_elements(By.CSS_SELECTOR, f"[data-testid=svg-{chart}] circle, "
                                                      f"[data-testid=svg-{chart}] rect"), chart
    assert by_id(browser, "progress-cefr").find_elements(By.CSS_SELECTOR, "tbody tr")
    first_turn = wait(browser).until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#achievement-list [data-code=first_turn]")))
    assert first_turn.get_attribute("data-unlocked") == "true"
    # Another period redraws the charts.
    Select(by_id(browser, "progress-days")).select_by_value("7")
    wait(browser).until(lambda b: len(b.find_elements(
        By.CSS_SELECTOR, "[data-testid=svg-words-known] circle")) == 7)
    # The whole tab in one picture: every chart.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(height + 140, 4000))
    screenshot(browser, PROGRESS_SCREENSHOT)

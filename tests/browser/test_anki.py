"""The playground's Anki piece (api/playground/static/anki.js) in headless Chromium against
the real stack: after a flashcard review, the Progress tab's Anki card exports the
learner's cards (the .apkg and the CSV download links, into Chromium's download folder),
and a CSV chosen in the file input is imported, the page showing what was imported.

Skipped, with the reason, when Chromium, chromedriver or Selenium is not installed.
"""
from __future__ import annotations

import zipfile

from tests.browser.page import by_id, register, wait  # first: it skips without Chromium

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC


def test_anki_export_links_download_and_a_csv_imports(stack, browser, tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    browser.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    register(browser, stack)

    by_id(browser, "tab-flashcards").click()
    front = wait(browser).until(EC.visibility_of_element_located((By.ID, "card-front")))
    lemma = front.text
    by_id(browser, "card-show").click()
    by_id(browser, "rate-good").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "card-last"), f"«{lemma}»: Good"))

    by_id(browser, "tab-progress").click()
    wait(browser).until(EC.visibility_of_element_located((By.ID, "anki-card")))
    by_id(browser, "anki-export-apkg").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "anki-status"), "Exported parlons.apkg."))
    deck = wait(browser).until(lambda b: (path := downloads / "parlons.apkg").exists() and path.stat().st_size
                               and path)
    assert zipfile.is_zipfile(deck)
    by_id(browser, "anki-export-csv").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "anki-status"), "Exported parlons.csv."))
    table = wait(browser).until(lambda b: (path := downloads / "parlons.csv").exists() and path.stat().st_size
                                and path)
    assert lemma in table.read_text(encoding="utf-8")

    mine = tmp_path / "mine.csv"
    mine.write_text("front,back\nzorglubette,a word of my own\n", encoding="utf-8")
    by_id(browser, "anki-file").send_keys(str(mine))
    by_id(browser, "anki-import").click()
    wait(browser).until(EC.text_to_be_present_in_element((By.ID, "anki-status"), "Imported 1 cards"))
    assert "1 new words of your own" in by_id(browser, "anki-status").text

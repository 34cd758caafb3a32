"""Language codes and the names prompts use."""
import re

from domain import languages
from domain.language import messages


def test_names_by_code_and_unknown_codes_stay_codes():
    assert languages.language_name("fr") == "French"
    assert languages.language_name("es") == "Spanish"
    assert languages.language_name("xx") == "xx"


def test_every_translated_message_language_has_a_name():
    assert set(messages.LANGUAGES) <= set(languages.NAMES)
    assert messages.language_name("pt-BR") == "Portuguese"
    assert messages.language_name(None) == "English"


def test_code_pattern_is_two_or_three_lower_case_letters():
    pattern = re.compile(languages.CODE_PATTERN)
    assert all(pattern.match(code) for code in ("fr", "en", "pt", "ast"))
    assert not any(pattern.match(code) for code in ("", "f", "FR", "pt-BR", "fren"))

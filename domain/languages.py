"""Languages by ISO 639 code: how a code is written, and the English names prompts use
("explain in Spanish", "a conversation in French")."""
from __future__ import annotations

# A two- or three-letter ISO 639 code, as accounts store target and native languages.
CODE_PATTERN = r"^[a-z]{2,3}$"

# The languages Parlons names: French (taught) and the native languages its messages are
# translated into.
NAMES = {"fr": "French", "en": "English", "es": "Spanish", "de": "German", "it": "Italian", "pt": "Portuguese"}


def language_name(code: str) -> str:
    """'es' -> 'Spanish'; a code without a name stays as it is."""
    return NAMES.get(code, code)

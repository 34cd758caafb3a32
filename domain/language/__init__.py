"""Language analysis: French grammar feedback and message moderation."""

from domain.language.grammar import GrammarError, GrammarResult, check_grammar, warm_up
from domain.language.moderation import ModerationResult, moderate


def analyse_grammar(text: str, language: str) -> dict:
    """The grammar stage's result. The analyzer knows French only: another language's
    message gets no corrections (a character in another language is for the models,
    which correct by recasting anyway) rather than French rules applied to it."""
    if language != "fr":
        return {"errors": [], "corrected_text": None}
    return check_grammar(text).to_dict()


__all__ = [
    "analyse_grammar",
    "GrammarError",
    "GrammarResult",
    "ModerationResult",
    "check_grammar",
    "moderate",
    "warm_up",
]

"""Language analysis: French grammar feedback and message moderation."""

from domain.language.grammar import GrammarError, GrammarResult, check_grammar, warm_up
from domain.language.moderation import ModerationResult, moderate

__all__ = [
    "GrammarError",
    "GrammarResult",
    "ModerationResult",
    "check_grammar",
    "moderate",
    "warm_up",
]

"""The model's correction pass over a learner's French message (issue 4, item 2).

When a provider is configured, the model lists the message's errors under a strict JSON
schema; each is aligned to character offsets in the message and merged with the rule
results, which stay authoritative. Offline there is no pass: the rules stand alone.

    found = llm_corrections(get_chain(), text, level, deadline=time.monotonic() + 8)
    errors = check_grammar(text).to_dict()["errors"]
    if found is not None:
        errors = merge(errors, found)
    corrected_text = apply(text, errors)

Models are poor at counting characters, so they quote the erroneous text (`wrong`) and
`align` finds it in the message.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from domain import prompt_files
from domain.cefr import normalize_level
from domain.language import messages
from domain.language.grammar import CATEGORIES, GrammarError, apply_corrections, without_overlaps
from domain.llm.base import ChatRequest

if TYPE_CHECKING:  # the chain loads both SDKs (seconds); callers that have one have loaded them
    from domain.llm.chain import ProviderChain

log = logging.getLogger(__name__)

CORRECTION_SCHEMA = {
    "type": "object",
    "properties": {
        "corrections": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "wrong": {"type": "string", "description": "The erroneous text, copied exactly from the message."},
                    "correction": {"type": "string", "description": "What replaces exactly that text."},
                    "category": {"type": "string", "enum": list(CATEGORIES)},
                    "explanation": {"type": "string", "description": "One short sentence for the learner."},
                },
                "required": ["wrong", "correction", "category", "explanation"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["corrections"],
    "additionalProperties": False,
}

# Room for some twenty corrections, more than a chat message (2,000 characters at most) needs;
# an answer cut short is not valid JSON and would be lost whole.
MAX_ANSWER_TOKENS = 1200

# What a learner's keyboard or the model may swap without changing the text.
_APOSTROPHES = "'\u2019\u02bc\u2018`"
_PLAIN = str.maketrans({**{a: "'" for a in _APOSTROPHES}, "\u00a0": " ", "\u202f": " "})


def correction_request(text: str, level: str, native_language: str | None = None) -> ChatRequest:
    """The model's instructions (prompts/tutor/corrections.txt) and the learner's message.
    `level` is a CEFR level ("A2" or "a2"); `native_language` an ISO 639 code, if known."""
    system = prompt_files.text("tutor/corrections.txt").format(
        level=normalize_level(level).upper(), native_language=native_language or "unknown",
        explanation_language=messages.language_name(native_language))
    return ChatRequest(system=system, messages=[{"role": "user", "content": text}],
                       max_tokens=MAX_ANSWER_TOKENS, temperature=0)


def llm_corrections(chain: ProviderChain, text: str, level: str, *, deadline: float,
                    native_language: str | None = None, learner_id: uuid.UUID | None = None) -> list[dict] | None:
    """The model's corrections of a French message, aligned to it (dicts shaped like
    GrammarError.to_dict()), or None when no provider answered valid JSON by `deadline`
    (a `time.monotonic()` value) or none is configured: the caller uses the rules alone.
    With `learner_id`, the call is charged to (and stopped by) the learner's token budget."""
    request = dataclasses.replace(correction_request(text, level, native_language), learner_id=learner_id)
    answer = chain.complete_json(request, CORRECTION_SCHEMA, deadline=deadline)
    if answer is None:  # the chain already validated any answer it returns against the schema
        return None
    return align(text, answer["corrections"])


def align(text: str, corrections: Iterable[dict]) -> list[dict]:
    """Each correction's `wrong` text located in `text`: exactly if possible, else ignoring
    case, the kind of apostrophe and whitespace; a repeated text takes its first occurrence
    no earlier correction took. Words the correction leaves as they were are trimmed off the
    span. Corrections that cannot be located, change nothing, are empty, or would overlap an
    earlier one are dropped. The result never overlaps and is sorted by start."""
    aligned: list[dict] = []
    for correction in corrections:
        wrong, replacement = correction["wrong"].strip(), correction["correction"].strip()
        # An empty correction (a bare deletion) is against the prompt and would leave a double space.
        if not wrong or not replacement or _plain(wrong) == _plain(replacement):
            continue
        placed = _place(text, wrong, replacement, taken=aligned)
        if placed is None:
            log.debug("A model correction does not align with the message: %r", wrong)
            continue
        start, end, replacement = placed
        aligned.append({"start": start, "end": end, "category": correction["category"],
                        "message": correction["explanation"].strip() or f"Use “{replacement}”.",
                        "suggestions": [replacement]})
    return sorted(aligned, key=lambda error: error["start"])


def merge(rule_errors: Iterable[dict], llm_errors: Iterable[dict]) -> list[dict]:
    """The rule errors, plus the model's errors that overlap none of them, sorted by start.
    A model error on exactly a rule error's span adds its suggestion after the rule's; one
    overlapping otherwise is dropped (the rule, precise by design, already covers it)."""
    merged = [{**error, "suggestions": list(error["suggestions"])} for error in rule_errors]
    for error in llm_errors:
        overlapping = [kept for kept in merged if _overlap(kept, error)]
        if not overlapping:
            merged.append({**error, "suggestions": list(error["suggestions"])})
        elif len(overlapping) == 1 and _same_span(overlapping[0], error):
            suggestions = overlapping[0]["suggestions"]
            suggestions.extend(s for s in error["suggestions"] if s not in suggestions)
    return sorted(merged, key=lambda error: error["start"])


def apply(text: str, errors: Iterable[dict]) -> str:
    """`text` with each error's span replaced by its first suggestion; of overlapping
    errors, the one listed first is applied."""
    as_grammar_errors = (GrammarError(e["start"], e["end"], e["category"], e["message"], e["suggestions"])
                         for e in errors)
    return apply_corrections(text, without_overlaps(as_grammar_errors))


def _plain(fragment: str) -> str:
    """A fragment as compared when case, apostrophes and spacing do not count."""
    return " ".join(fragment.translate(_PLAIN).casefold().split())


def _place(text: str, wrong: str, replacement: str, *, taken: list[dict]) -> tuple[int, int, str] | None:
    """The span and replacement of the first occurrence of `wrong` in `text` (as whole
    words; exact, else differing only in case, apostrophes or spacing) that, once trimmed,
    overlaps no taken span."""
    for pattern in (re.escape(wrong), _tolerant_pattern(wrong)):
        for start, end in _whole_word_matches(pattern, wrong, text):
            start, end, trimmed = _trim_unchanged_words(text, start, end, replacement)
            if not any(_overlap(error, {"start": start, "end": end}) for error in taken):
                return start, end, trimmed
    return None


def _tolerant_pattern(wrong: str) -> str:
    words = ("".join(f"[{_APOSTROPHES}]" if char in _APOSTROPHES else re.escape(char) for char in word)
             for word in wrong.split())
    return "(?i:" + r"\s+".join(words) + ")"


def _whole_word_matches(pattern: str, wrong: str, text: str) -> Iterator[tuple[int, int]]:
    # "a" must not match inside "vais": a span that starts (ends) with a letter or digit
    # must start (end) a word of the text.
    before = r"(?<!\w)" if wrong[0].isalnum() else ""
    after = r"(?!\w)" if wrong[-1].isalnum() else ""
    for match in re.finditer(f"{before}(?:{pattern}){after}", text):
        yield match.start(), match.end()


def _trim_unchanged_words(text: str, start: int, end: int, replacement: str) -> tuple[int, int, str]:
    """The span and replacement without the leading and trailing words the correction keeps
    ("mes amie" -> "mes amies" is "amie" -> "amies"); both keep at least one word, so a
    deleted word still replaces a stretch ("pas pas" -> "pas")."""
    wrong_words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", text[start:end])]
    fixed_words = [(m.start(), m.end()) for m in re.finditer(r"\S+", replacement)]

    def same(wrong_word: tuple[int, int], fixed_word: tuple[int, int]) -> bool:
        return _plain(text[slice(*wrong_word)]) == _plain(replacement[slice(*fixed_word)])

    while len(wrong_words) > 1 and len(fixed_words) > 1 and same(wrong_words[0], fixed_words[0]):
        wrong_words, fixed_words = wrong_words[1:], fixed_words[1:]
    while len(wrong_words) > 1 and len(fixed_words) > 1 and same(wrong_words[-1], fixed_words[-1]):
        wrong_words, fixed_words = wrong_words[:-1], fixed_words[:-1]
    return wrong_words[0][0], wrong_words[-1][1], replacement[fixed_words[0][0]:fixed_words[-1][1]]


def _overlap(first: dict, second: dict) -> bool:
    return first["start"] < second["end"] and second["start"] < first["end"]


def _same_span(first: dict, second: dict) -> bool:
    return (first["start"], first["end"]) == (second["start"], second["end"])

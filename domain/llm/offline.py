"""The offline provider: an in-character reply without any model.

It is the default when no API key is configured and the test suite's provider, so it
has to behave like a good tutor within its means: deterministic (a stable hash of the
request picks every variant, never `random`), fast (string work only), in the
character's voice and at the learner's level (phrases come from the `offline:` section
of the character's `character.yaml`), recasting the learner's mistakes from the grammar
result (never inventing one), reacting to what they said, and ending with a follow-up
question that was not already asked. When the session has target words, one of them is
offered just before the question (`prompts/tutor/target_words.yaml`).
"""
from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domain import prompt_files
from domain.cefr import BAND_ORDER, BANDS, NORMALIZED_LEVELS
from domain.characters import Character
from domain.language import lexicon
from domain.prompt_files import prompts_dir

log = logging.getLogger(__name__)

# Sentences between the lead (recast or reaction) and the question: short replies for
# beginners, fuller ones for advanced learners.
_BODY_SENTENCES = {"a1": 0, "a2": 1, "b1": 1, "b2": 2, "c1": 2, "c2": 3}
_MAX_RECASTS = {"a1a2": 1, "b1b2": 2, "c1c2": 2}
_WORDS_PER_CHUNK = 3
_HISTORY_LOOKBACK = 30  # assistant messages checked to avoid repeating a phrase (bounds the cost)

# Used only when a character.yaml has no phrase of some kind, so a half-written
# character still answers sensibly.
_FALLBACK_PHRASES: dict[str, list[str]] = {
    "openers": ["Ah, d'accord !", "Très bien !"],
    "reactions": ["Ah, {topic} !"],
    "recasts": ["Ah, {phrase} !"],
    "quoted_recasts": ["Ah, « {phrase} » !"],
    "follow_ups": ["Et toi, qu'est-ce que tu aimes ?", "Tu peux m'en dire plus ?"],
}

# --- word lists (French) ----------------------------------------------------------------

# Words as they appear before an apostrophe too ("j'aime" -> "j"), from the shared lexicon.
_SUBJECT_PRONOUNS = lexicon.elided_heads(
    frozenset(lexicon.column("subject_pronouns", "pronoun", "person"))
    | frozenset(lexicon.column("subject_pronouns", "pronoun", "reflexive").values()) | {"ne"})
# Pronouns that make an echo ("Ah, avec tes amies !") wrong in the character's mouth: the
# first and second persons, subject or reflexive.
_PERSONAL_PRONOUNS = lexicon.elided_heads(frozenset(
    word for row in lexicon.table("subject_pronouns") if row["person"][0] in "12"
    for word in (row["pronoun"], row["reflexive"]) if word))
_ARTICLES = lexicon.elided_heads(frozenset(
    word for word, determiner in lexicon.determiners().items() if determiner.kind != "quantifier"))
_PREPOSITIONS = lexicon.elided_heads(lexicon.words("preposition")) | {"a"}  # "a" for "à", as learners write it
_CONJUNCTIONS = lexicon.elided_heads(lexicon.words("clause_link"))
_FUNCTION_WORDS = _SUBJECT_PRONOUNS | _ARTICLES | _PREPOSITIONS | _CONJUNCTIONS | lexicon.elided_heads(
    lexicon.words("pronoun_subject")) | lexicon.words("degree_adverb") | {"y"}
# Nouns that follow an article but say nothing about the topic.
_EMPTY_NOUNS = lexicon.words("empty_noun")
# First/second person swap so an echo speaks to the learner ("mes amies" -> "tes amies").
_PERSON_SWAP = lexicon.person_swap()
# Contracted articles become plain ones when the noun phrase stands alone ("au cinéma" -> "le
# cinéma"); "des" stays, being the plural indefinite article too.
_STANDALONE_ARTICLE = {contraction: article for (_, article), contraction in lexicon.contractions().items()
                       if contraction != "des"}

_GREETINGS = lexicon.words("greeting")
# A few frequent English words, to notice a learner who switched to English (French
# words such as "je" or "est" in the same message mean they did not).
_ENGLISH_MARKERS = lexicon.words("english_marker")
_FRENCH_MARKERS = lexicon.words("french_marker")

# Sentence-initial words that lose their capital when quoted mid-sentence (names keep theirs).
_LOWERCASE_STARTERS = _FUNCTION_WORDS | {"hier", "aujourd", "demain", "maintenant", "ici", "moi", "toi"}

_BOUNDARY_END = ".,;:!?…"
_EDGE_PUNCTUATION = " \t\n.,;:!?…\"«»()[]“”"
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


@dataclass(frozen=True)
class ReplyRequest:
    character: Character
    level: str  # "A1".."C2"
    history: list[tuple[str, str]]  # earlier (role, content) pairs, oldest first
    user_message: str
    corrections: list[dict]  # grammar errors on user_message: {start, end, category, message, suggestions}
    # The user message with corrections applied. Informative only: the provider re-applies
    # `corrections` itself, because it needs to know where each fix lands.
    corrected_text: str | None
    # The words the learner is practising, [{word_id, lemma, translation}]: the reply
    # offers one of them (domain/srs/targets.py).
    target_words: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class _Fix:
    """One usable correction, in corrected-text coordinates after `_apply_fixes`."""
    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str

    @property
    def word(self) -> str:
        """Lower case, edge punctuation removed, curly apostrophe normalized."""
        return self.text.strip(_EDGE_PUNCTUATION).lower().replace("’", "'")

    @property
    def head(self) -> str:
        """The elided prefix of "l'école" / "j'ai" ("l", "j"), else the word itself."""
        word = self.word
        return word.split("'", 1)[0] if "'" in word else word

    @property
    def ends_clause(self) -> bool:
        return self.text[-1] in _BOUNDARY_END

    @property
    def is_punctuation(self) -> bool:
        return not any(ch.isalnum() for ch in self.text)


class OfflineProvider:
    name = "offline"

    def stream_reply(self, request: ReplyRequest) -> Iterator[str]:
        """The reply in chunks of a few words; their concatenation is the reply."""
        words = re.findall(r"\S+\s*", self.reply(request))
        for i in range(0, len(words), _WORDS_PER_CHUNK):
            yield "".join(words[i:i + _WORDS_PER_CHUNK])

    def reply(self, request: ReplyRequest) -> str:
        return _Composer(request).compose()


# --- composition --------------------------------------------------------------------------


class _Composer:
    """Builds one reply: [greeting] lead [body...] follow-up question."""

    def __init__(self, request: ReplyRequest) -> None:
        self.request = request
        self.level = _level_or_default(request.level)
        self.band = BANDS[self.level]
        self.phrases = _band_phrases(request.character.offline, self.band)
        self.seed = _seed(request, self.level)
        self.said = _recent_assistant_text(request.history)
        self.message = request.user_message or ""
        self.fixes, self.corrected = _apply_fixes(self.message, request.corrections)

    def compose(self) -> str:
        recasts, recast_spans = self._recasts()
        topic = _topic_phrase(self.corrected, self.fixes, recast_spans)
        parts: list[str] = []
        greeted = not self.request.history
        if greeted:
            parts += self._optional("greeting", "greetings")
        lead, topic_used = self._lead(recasts, topic, greeted=greeted)
        parts += lead
        # Two recasts already make a long opening: keep the reply's length level-appropriate.
        room = max(0, _BODY_SENTENCES[self.level] - max(0, len(lead) - 1))
        parts += self._body(topic if not topic_used else None, room)
        parts += self._target_word()
        parts.append(self._follow_up())
        return " ".join(p.strip() for p in parts if p and p.strip())

    def _lead(self, recasts: list[str], topic: str | None, *, greeted: bool) -> tuple[list[str], bool]:
        """The first reaction, most specific first. Returns it and whether it used the topic."""
        if recasts:
            return recasts, False
        if _looks_foreign(self.message) and self.phrases.get("other_language"):
            return self._optional("foreign", "other_language"), False
        if _is_greeting(self.message) and self.phrases.get("greetings"):
            return ([] if greeted else self._optional("greeting", "greetings")), False
        if self.message.rstrip().endswith("?") and self.phrases.get("question_reactions"):
            return self._optional("question", "question_reactions"), False
        if topic:
            return [self._template("reaction", "reactions", topic=topic)], True
        return [self._pick("opener", "openers")], False

    def _body(self, topic: str | None, room: int) -> list[str]:
        """Up to `room` extra sentences: a reaction to the topic, then the character's remarks."""
        body: list[str] = []
        if topic and room:
            body.append(self._template("reaction", "reactions", topic=topic))
            room -= 1
        for index in range(room):
            remark = self._pick(f"remark{index}", "remarks", exclude=body)
            if remark is None or remark in body:
                break  # no (more) remarks in this phrasebook
            body.append(remark)
        return body

    def _follow_up(self) -> str:
        question = self._pick("follow_up", "follow_ups") or _FALLBACK_PHRASES["follow_ups"][0]
        return question if question.rstrip().endswith("?") else question.rstrip(" .!") + " ?"

    def _target_word(self) -> list[str]:
        """A sentence offering one of the words the learner is practising: one they did
        not just write and the character did not offer lately, when there is such a one."""
        offered = [word for word in self.request.target_words if word.get("lemma")]
        templates = _level_variants(prompt_files.yaml_data(prompts_dir() / "tutor" / "target_words.yaml"),
                                    self.request.character.target_language, self.level)
        if not offered or not templates:
            return []
        start = _hash_int(self.seed, "target_word") % len(offered)
        rotated = offered[start:] + offered[:start]
        written = {word.lower() for word in _WORD.findall(self.message)}
        fresh = [word for word in rotated
                 if word["lemma"].lower() not in written and f"« {word['lemma']} »" not in self.said]
        chosen = (fresh or rotated)[0]
        template = templates[_hash_int(self.seed, "target_template") % len(templates)]
        return [_fill(template, lemma=chosen["lemma"], translation=chosen.get("translation") or "")]

    def _recasts(self) -> tuple[list[str], list[tuple[int, int]]]:
        sentences: list[str] = []
        spans: list[tuple[int, int]] = []
        used_templates: list[str] = []
        for fix in _recastable(self.fixes):
            if len(sentences) == _MAX_RECASTS[self.band]:
                break
            window = _recast_window(self.corrected, fix)
            if window is None or any(s <= window.start < e or window.start <= s < window.end for s, e in spans):
                continue  # nothing to quote, or the previous recast already said it
            key = "recasts" if window.echo else "quoted_recasts"
            template = self._pick_template(f"recast{len(sentences)}", key, exclude=used_templates)
            used_templates.append(template)
            sentences.append(_fill(template, phrase=window.phrase))
            spans.append((window.start, window.end))
        return sentences, spans

    # --- phrase choice ---------------------------------------------------------------

    def _options(self, key: str) -> list[str]:
        options = [str(o) for o in (self.phrases.get(key) or []) if str(o).strip()]
        return options or list(_FALLBACK_PHRASES.get(key, []))

    def _pick(self, slot: str, key: str, exclude: list[str] | None = None) -> str | None:
        """A variant chosen by the request hash, skipping ones said recently when possible."""
        options = self._options(key)
        if not options:
            return None
        start = _hash_int(self.seed, slot) % len(options)
        rotated = options[start:] + options[:start]
        for option in rotated:
            if option not in self.said and option not in (exclude or []):
                return option
        return rotated[0]

    def _pick_template(self, slot: str, key: str, exclude: list[str]) -> str:
        options = self._options(key)
        start = _hash_int(self.seed, slot) % len(options)
        rotated = options[start:] + options[:start]
        return next((o for o in rotated if o not in exclude), rotated[0])

    def _template(self, slot: str, key: str, **values: str) -> str:
        return _fill(self._pick_template(slot, key, exclude=[]), **values)

    def _optional(self, slot: str, key: str) -> list[str]:
        if not self.phrases.get(key):
            return []
        picked = self._pick(slot, key)
        return [picked] if picked else []


def _level_or_default(level: str) -> str:
    normalized = str(level or "").strip().lower()
    return normalized if normalized in NORMALIZED_LEVELS else "a1"  # unknown level: the simplest French is safest


def _band_phrases(offline: dict[str, Any], band: str) -> dict[str, Any]:
    """The band's phrasebook, or the nearest band's when this one is missing."""
    ordered = sorted(BAND_ORDER, key=lambda b: (abs(BAND_ORDER.index(b) - BAND_ORDER.index(band)),
                                                BAND_ORDER.index(b)))
    for candidate in ordered:
        section = (offline or {}).get(candidate)
        if isinstance(section, dict):
            return section
    return {}


def _seed(request: ReplyRequest, level: str) -> bytes:
    last_assistant = next((c for r, c in reversed(request.history) if r == "assistant"), "")
    key = "\x1f".join([request.character.id, level, request.user_message or "", str(len(request.history)),
                       last_assistant])
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def _hash_int(seed: bytes, slot: str) -> int:
    return int.from_bytes(hashlib.blake2b(seed + slot.encode(), digest_size=8).digest(), "big")


def _recent_assistant_text(history: list[tuple[str, str]]) -> str:
    said = [content for role, content in history if role == "assistant"]
    return "\n".join(said[-_HISTORY_LOOKBACK:])


def _fill(template: str, **values: str) -> str:
    """Substitute {name} placeholders, fixing the capital of the inserted phrase: capital at
    a sentence start, lower case mid-sentence for a common word ("Je" -> "je", not "Paris")."""
    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            return match.group(0)
        before = template[:match.start()].rstrip(" «\"“")
        return _capitalize(value) if not before or before[-1] in ".!?" else _soften_capital(value)
    return re.sub(r"\{(\w+)\}", substitute, template)


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def _soften_capital(text: str) -> str:
    first = _WORD.match(text)
    if first and first.group(0)[:1].isupper() and _Token(0, 0, first.group(0)).head in _LOWERCASE_STARTERS:
        return text[:1].lower() + text[1:]
    return text


def _is_greeting(message: str) -> bool:
    words = [t.head for t in _tokens(message)]
    return bool(words) and words[0] in _GREETINGS and len(words) <= 4


def _looks_foreign(message: str) -> bool:
    """Mostly English words and no French ones: the learner switched languages."""
    tokens = _tokens(message)
    words = {t.word for t in tokens}
    heads = {t.head for t in tokens if "'" in t.word}  # "j'aime" -> "j"
    return len(words & _ENGLISH_MARKERS) >= 2 and not (words | heads) & _FRENCH_MARKERS


# --- corrections ----------------------------------------------------------------------------


def _apply_fixes(message: str, corrections: list[dict]) -> tuple[list[_Fix], str]:
    """Apply each usable correction's first suggestion; return where each replacement
    landed in the corrected text. Overlapping or malformed corrections are ignored."""
    fixes: list[_Fix] = []
    pieces: list[str] = []
    cursor = 0
    length = 0
    for start, end, replacement in _usable_corrections(message, corrections):
        if start < cursor:
            continue  # overlaps the previous correction
        kept = message[cursor:start]
        pieces += [kept, replacement]
        length += len(kept)
        fixes.append(_Fix(length, length + len(replacement), replacement))
        length += len(replacement)
        cursor = end
    pieces.append(message[cursor:])
    return fixes, "".join(pieces)


def _usable_corrections(message: str, corrections: list[dict]) -> list[tuple[int, int, str]]:
    usable = []
    for correction in corrections or []:
        try:
            start, end = int(correction["start"]), int(correction["end"])
            suggestions = correction.get("suggestions") or []
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if not (0 <= start <= end <= len(message)) or not suggestions or not isinstance(suggestions[0], str):
            continue
        start, end, replacement = _trim_shared_edges(message, start, end, suggestions[0])
        if replacement == message[start:end]:
            continue
        usable.append((start, end, replacement))
    return sorted(usable)


def _trim_shared_edges(message: str, start: int, end: int, replacement: str) -> tuple[int, int, str]:
    """Narrow "chien." -> "chiens." to "chien" -> "chiens": spaces and punctuation both
    sides share are not part of the fix, and keeping them would hide it from the recast."""
    def shared(a: str, b: str) -> bool:
        return a == b and not a.isalnum()
    while start < end and replacement and shared(message[start], replacement[0]):
        start, replacement = start + 1, replacement[1:]
    while start < end and replacement and shared(message[end - 1], replacement[-1]):
        end, replacement = end - 1, replacement[:-1]
    return start, end, replacement


def _recastable(fixes: list[_Fix]) -> list[_Fix]:
    """Fixes worth saying back: word changes, not spacing or punctuation tweaks."""
    def wordy(text: str) -> bool:
        stripped = text.strip()
        return bool(stripped) and stripped == text and stripped[0].isalnum() and stripped[-1].isalnum()
    return [f for f in fixes if wordy(f.replacement)]


@dataclass(frozen=True)
class _Window:
    start: int
    end: int
    phrase: str
    echo: bool  # True: say it back to the learner ("avec tes amies"); False: quote it


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\S+", text)]


def _recast_window(corrected: str, fix: _Fix) -> _Window | None:
    """The corrected words around a fix: its noun phrase when it is one, else its clause."""
    tokens = _tokens(corrected)
    core = [i for i, t in enumerate(tokens) if t.start < fix.end and t.end > fix.start]
    if not core:
        return None
    first, last = core[0], _through_content_word(tokens, core[-1])
    noun_start = _noun_phrase_start(tokens, first, last, core)
    if noun_start is not None:
        return _window(tokens, noun_start, last, fix, echo=True)
    left = _expand_left(tokens, first, limit=3)
    right = _expand_right(tokens, last, limit=2)
    return _window(tokens, left, right, fix, echo=False)


def _through_content_word(tokens: list[_Token], last: int) -> int:
    """A fixed article ("le" -> "la") means nothing alone: include the word it goes with."""
    i = last
    while (i + 1 < len(tokens) and i - last < 2 and tokens[i].word in _ARTICLES | _PREPOSITIONS
           and not tokens[i].ends_clause and not tokens[i + 1].is_punctuation):
        i += 1
    return i


def _noun_phrase_start(tokens: list[_Token], first: int, last: int, core: list[int]) -> int | None:
    """Index where the noun phrase holding the fix starts ("avec mes amies", "des pommes
    rouges") when it can be said back to the learner on its own, else None."""
    start = _article_before(tokens, first, last)
    if start is None or not _article_is_determiner(tokens, start):
        return None
    if any(tokens[j].head in _PERSONAL_PRONOUNS for j in range(start, last + 1)):
        return None  # "je suis" cannot be echoed without conjugating
    if any(tokens[j].word in _PERSON_SWAP for j in core):
        return None  # the fix is a possessive itself: swapping it would hide the correction
    return _preposition_run_start(tokens, start)


def _article_before(tokens: list[_Token], first: int, last: int) -> int | None:
    """The article the fix depends on: in the fix itself ("la pomme"), right before it
    ("les chats"), or before up to two words of the same phrase ("des pommes rouges")."""
    if any(tokens[j].head in _ARTICLES for j in range(first, last + 1)):
        return first
    for k in range(first, max(first - 3, -1), -1):
        if k < first and (tokens[k].head in _FUNCTION_WORDS or tokens[k].ends_clause):
            return None  # a verb or pronoun in between: not one noun phrase
        if k > 0 and tokens[k - 1].head in _ARTICLES and not tokens[k - 1].ends_clause:
            return k - 1
    return None


def _preposition_run_start(tokens: list[_Token], index: int) -> int:
    """Include the prepositions and articles just before `index` ("avec mes amies")."""
    i = index
    while i > 0 and not tokens[i - 1].ends_clause and tokens[i - 1].head in _ARTICLES | _PREPOSITIONS:
        i -= 1
    return i


def _article_is_determiner(tokens: list[_Token], index: int) -> bool:
    """'le/la/les/l'' right after a subject pronoun is an object pronoun ("je les mange")."""
    return index == 0 or tokens[index - 1].ends_clause or tokens[index - 1].word not in _SUBJECT_PRONOUNS


def _expand_left(tokens: list[_Token], first: int, limit: int) -> int:
    i = first
    while i > 0 and first - i < limit and not tokens[i - 1].ends_clause and not tokens[i - 1].is_punctuation:
        i -= 1
    while i < first and tokens[i].word in _CONJUNCTIONS:
        i += 1  # "et je suis allée" -> "je suis allée"
    return i


def _expand_right(tokens: list[_Token], last: int, limit: int) -> int:
    i = last
    while (i + 1 < len(tokens) and i - last < limit and not tokens[i].ends_clause
           and not tokens[i + 1].is_punctuation):
        i += 1
    while i > last and tokens[i].word in _FUNCTION_WORDS and not tokens[i].ends_clause:
        i -= 1  # never stop on "au" or "avec"
    return i


def _window(tokens: list[_Token], first: int, last: int, fix: _Fix, *, echo: bool) -> _Window | None:
    words = []
    for token in tokens[first:last + 1]:
        outside_fix = token.end <= fix.start or token.start >= fix.end
        swap = _PERSON_SWAP.get(token.text.lower()) if echo and outside_fix else None
        words.append(_match_case(token.text, swap) if swap else token.text)
    phrase = _strip_edges(" ".join(words), fix.replacement)
    if not phrase or fix.replacement not in phrase:
        return None
    return _Window(tokens[first].start, tokens[last].end, phrase, echo)


def _strip_edges(phrase: str, keep: str) -> str:
    stripped = phrase.strip(_EDGE_PUNCTUATION)
    return stripped if keep in stripped else phrase.strip()


def _match_case(original: str, replacement: str) -> str:
    return _capitalize(replacement) if original[:1].isupper() else replacement


# --- reacting to the learner's words ---------------------------------------------------------


def _topic_phrase(corrected: str, fixes: list[_Fix], avoid: list[tuple[int, int]]) -> str | None:
    """A noun phrase from the learner's (corrected) message to react to, like "le cinéma".

    Only words right after an article count (a cheap noun test), never a corrected word
    (the learner may still be unsure of it) nor one the recast already repeats."""
    busy = [(f.start, f.end) for f in fixes] + list(avoid)
    tokens = [_Token(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(corrected)]
    for index, token in enumerate(tokens):
        if any(token.start < e and token.end > s for s, e in busy):
            continue
        article, noun = _split_elision(token.text)
        if article is not None:
            article_index = index  # "l'école": the article is inside the token
        elif index > 0 and tokens[index - 1].word in _ARTICLES and _adjacent(corrected, tokens[index - 1], token):
            article, article_index = tokens[index - 1].word, index - 1
        else:
            continue
        if _article_is_determiner(tokens, article_index) and _good_noun(noun):
            return _noun_phrase(article, noun)
    return None


def _split_elision(word: str) -> tuple[str | None, str]:
    """"l'école" -> ("l'", "école"); other words -> (None, word)."""
    normalized = word.replace("’", "'")
    prefix, sep, rest = normalized.partition("'")
    if sep and prefix.lower() == "l":
        return "l'", rest
    return None, word


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    return text[left.end:right.start].isspace()


def _good_noun(word: str) -> bool:
    lowered = word.lower()
    return (3 <= len(word) <= 24 and lowered not in _EMPTY_NOUNS and lowered not in _FUNCTION_WORDS
            and "'" not in word and "’" not in word)


def _noun_phrase(article: str, noun: str) -> str:
    article = _STANDALONE_ARTICLE.get(article, article)
    article = _PERSON_SWAP.get(article, article)  # "mes amies" -> "tes amies"
    return f"{article}{noun}" if article.endswith("'") else f"{article} {noun}"


# --- kind redirect for flagged messages --------------------------------------------------------


# Last resort when redirect.yaml is missing or broken: a flagged turn must still finish.
_EMERGENCY_REDIRECT = "Parlons d'autre chose, d'accord ? De quoi as-tu envie de parler ?"


def kind_redirect(language: str, level: str, seed: str, *, prompts_root: Path | None = None) -> str:
    """A short, kind invitation back to the conversation for a flagged message, from
    `prompts/tutor/redirect.yaml`; the same seed always gives the same variant."""
    path = (prompts_root or prompts_dir()) / "tutor" / "redirect.yaml"
    variants = _level_variants(prompt_files.yaml_data(path), language, _level_or_default(level))
    if not variants:
        log.error("no redirect variants for language %r in %s", language, path)
        return _EMERGENCY_REDIRECT
    digest = hashlib.blake2b(str(seed).encode("utf-8"), digest_size=8).digest()
    return variants[int.from_bytes(digest, "big") % len(variants)]


def _level_variants(data: Any, language: str, level: str) -> list[str]:
    """A tutor YAML file's variants (target language, then level or level band) for
    `level`, or the nearest band's."""
    if not isinstance(data, dict) or not data:
        return []
    by_language = data.get(language) or data.get("fr") or next(iter(data.values()))
    if not isinstance(by_language, dict):
        return []
    band = BANDS[level]
    ordered = [level, band] + sorted(BAND_ORDER, key=lambda b: abs(BAND_ORDER.index(b) - BAND_ORDER.index(band)))
    for key in ordered:
        variants = [str(v).strip() for v in (by_language.get(key) or []) if str(v).strip()]
        if variants:
            return variants
    return []

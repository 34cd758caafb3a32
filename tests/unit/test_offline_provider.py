"""The offline provider: deterministic, fast, in character, at level, recasting, asking."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

from domain.characters import Character, CharacterLibrary
from domain.llm.offline import OfflineProvider, ReplyRequest, kind_redirect

REPO_PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
LIBRARY = CharacterLibrary(REPO_PROMPTS / "characters")
CHARACTER_IDS = ("amara", "camille", "henri", "lucas")

MESSAGES = [
    "Je suis allé au cinéma avec mes amie.",
    "J'aime les chat et les chiens.",
    "Hier, j'ai acheté des pommes rouges au marché.",
    "Je travaille dans une banque et j'aime mon travail.",
    "Mon frère habite à Lyon avec sa femme.",
    "Et toi, tu aimes le café ?",
    "Bonjour !",
    "Je ne sais pas.",
    "I don't understand what you mean",
    "Le week-end, je fais du vélo dans la forêt.",
]


def error(message: str, wrong: str, suggestion: str, category: str = "grammar") -> dict:
    """A grammar error on the first whole-word occurrence of `wrong`."""
    match = re.search(rf"(?<!\w){re.escape(wrong)}(?!\w)", message)
    assert match, wrong
    return {"start": match.start(), "end": match.end(), "category": category,
            "message": "test", "suggestions": [suggestion]}


def request(message: str, *, character: str = "camille", level: str = "A1", corrections: list[dict] | None = None,
            history: list[tuple[str, str]] | None = None, corrected: str | None = None) -> ReplyRequest:
    return ReplyRequest(character=LIBRARY.get(character), level=level, history=history or [],
                        user_message=message, corrections=corrections or [], corrected_text=corrected)


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider()


def words(text: str) -> int:
    return len(text.split())


# --- determinism and streaming ---------------------------------------------------------------


def test_same_request_same_reply(provider: OfflineProvider) -> None:
    message = "Je suis allé au cinéma avec mes amie."
    corrections = [error(message, "amie", "amies")]
    history = [("user", "Bonjour"), ("assistant", "Bonjour ! Tu aimes le café ?")]
    first = provider.reply(request(message, corrections=corrections, history=history))
    again = OfflineProvider().reply(request(message, corrections=corrections, history=list(history)))
    assert first == again


def test_replies_vary_with_the_message(provider: OfflineProvider) -> None:
    replies = {provider.reply(request(m, level="B1")) for m in MESSAGES}
    assert len(replies) == len(MESSAGES)
    follow_ups = {provider.reply(request(m, level="B1")).rsplit(". ", 1)[-1] for m in MESSAGES}
    assert len(follow_ups) >= 4


@pytest.mark.parametrize("level", ["A1", "B2", "C1"])
def test_stream_concatenates_to_the_reply(provider: OfflineProvider, level: str) -> None:
    req = request("Je suis allé au cinéma avec mes amie.", level=level,
                  corrections=[error("Je suis allé au cinéma avec mes amie.", "amie", "amies")])
    chunks = list(provider.stream_reply(req))
    assert "".join(chunks) == provider.reply(req)
    assert len(chunks) > 1
    assert all(1 <= words(chunk) <= 3 for chunk in chunks)


def test_fast(provider: OfflineProvider) -> None:
    message = "Je suis allé au cinéma avec mes amie."
    req = request(message, level="C1", corrections=[error(message, "amie", "amies")],
                  history=[("user", "Salut"), ("assistant", "Salut ! Ça va ?")] * 10)
    provider.reply(req)
    runs = 300
    started = time.perf_counter()
    for _ in range(runs):
        provider.reply(req)
    assert (time.perf_counter() - started) / runs < 0.001


# --- recasts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("message", "wrong", "suggestion", "expected"), [
    ("Je suis allé au cinéma avec mes amie.", "amie", "amies", "avec tes amies"),
    ("Je suis allé au cinéma avec mes amies.", "allé", "allée", "je suis allée au cinéma"),
    ("J'aime les chat.", "chat", "chats", "les chats"),
    ("Je mange le pomme.", "le", "la", "la pomme"),
    ("Hier, j'ai acheté des pommes rouge.", "rouge", "rouges", "des pommes rouges"),
    ("Mon frère a trois chien.", "chien", "chiens", "trois chiens"),
    ("Je vais a la plage.", "a", "à", "à la plage"),
])
@pytest.mark.parametrize("character", CHARACTER_IDS)
@pytest.mark.parametrize("level", ["A1", "B1", "C2"])
def test_recast_contains_the_correction(provider: OfflineProvider, message: str, wrong: str, suggestion: str,
                                        expected: str, character: str, level: str) -> None:
    reply = provider.reply(request(message, character=character, level=level,
                                   corrections=[error(message, wrong, suggestion)]))
    assert suggestion in reply
    assert expected in reply.lower()
    assert reply.endswith("?")


def test_recast_comes_first_and_is_natural(provider: OfflineProvider) -> None:
    message = "Je suis allé au cinéma avec mes amie."
    reply = provider.reply(request(message, corrections=[error(message, "amie", "amies")],
                                   history=[("user", "Salut"), ("assistant", "Salut ! Tu aimes Paris ?")]))
    first_sentence = re.split(r"(?<=[.!?])\s", reply)[0]
    assert "tes amies" in first_sentence
    assert "mes amie " not in reply and "amie." not in reply


def test_several_corrections_at_higher_levels(provider: OfflineProvider) -> None:
    message = "Hier je suis allé au marché et j'ai acheté des pomme."
    corrections = [error(message, "allé", "allée"), error(message, "pomme", "pommes")]
    b2 = provider.reply(request(message, level="B2", corrections=corrections))
    assert "allée" in b2 and "pommes" in b2
    a1 = provider.reply(request(message, level="A1", corrections=corrections))
    assert "allée" in a1 and "pommes" not in a1  # beginners get one recast at a time


def test_never_invents_corrections(provider: OfflineProvider) -> None:
    message = "Je suis allé au cinéma avec mes amie."
    for level in ("A1", "B1", "C1"):
        reply = provider.reply(request(message, level=level))
        assert "amies" not in reply and "allée" not in reply
        assert "«" not in reply


@pytest.mark.parametrize("bad", [
    {"start": 5, "end": 999, "suggestions": ["x"]},
    {"start": 3, "end": 1, "suggestions": ["x"]},
    {"start": 0, "end": 2, "suggestions": []},
    {"start": 0, "end": 2},
    {"start": "?", "end": 2, "suggestions": ["x"]},
    {"end": 2, "suggestions": ["x"]},
])
def test_malformed_corrections_are_ignored(provider: OfflineProvider, bad: dict) -> None:
    reply = provider.reply(request("Je aime le café.", corrections=[bad]))
    assert reply.endswith("?")
    assert reply == provider.reply(request("Je aime le café."))


def test_punctuation_only_fix_is_not_recast(provider: OfflineProvider) -> None:
    message = "Tu aimes le café?"
    corrections = [{"start": 16, "end": 17, "category": "typography", "message": "", "suggestions": [" ?"]}]
    reply = provider.reply(request(message, level="B1", corrections=corrections))
    assert "«" not in reply and reply.endswith("?")


# --- reacting and asking ----------------------------------------------------------------------


@pytest.mark.parametrize("character", CHARACTER_IDS)
@pytest.mark.parametrize("message", MESSAGES)
@pytest.mark.parametrize("level", ["A1", "A2", "B1", "B2", "C1", "C2"])
def test_always_ends_with_a_question(provider: OfflineProvider, character: str, message: str, level: str) -> None:
    reply = provider.reply(request(message, character=character, level=level))
    assert reply.endswith("?")
    assert reply == reply.strip() and "  " not in reply and "{" not in reply


@pytest.mark.parametrize("level", ["A1", "C1"])
def test_reuses_a_content_word_from_the_message(provider: OfflineProvider, level: str) -> None:
    reply = provider.reply(request("Je travaille dans une banque.", level=level,
                                   history=[("user", "Salut"), ("assistant", "Salut ! Tu travailles ?")]))
    assert "une banque" in reply.lower()


def test_reuse_speaks_to_the_learner(provider: OfflineProvider) -> None:
    reply = provider.reply(request("Mon frère habite à Lyon.", level="B1",
                                   history=[("user", "Salut"), ("assistant", "Salut ! Tu as un frère ?")]))
    assert "ton frère" in reply.lower()


def test_object_pronouns_are_not_taken_for_articles(provider: OfflineProvider) -> None:
    reply = provider.reply(request("Je les mange souvent.", level="B1",
                                   history=[("user", "Salut"), ("assistant", "Salut ! Tu aimes les fruits ?")]))
    assert "les mange" not in reply.lower()


def test_does_not_repeat_a_question_already_asked(provider: OfflineProvider) -> None:
    character = LIBRARY.get("camille")
    questions = character.offline["a1a2"]["follow_ups"]
    keep = questions[3]
    history: list[tuple[str, str]] = []
    for question in questions:
        if question != keep:
            history += [("user", "Oui."), ("assistant", f"Ah, super ! {question}")]
    reply = provider.reply(request("J'aime le sport.", history=history))
    assert reply.endswith(keep)


def test_follow_up_comes_from_the_characters_phrasebook(provider: OfflineProvider) -> None:
    for character_id in CHARACTER_IDS:
        questions = LIBRARY.get(character_id).offline["c1c2"]["follow_ups"]
        reply = provider.reply(request("J'aime voyager.", character=character_id, level="C1"))
        assert any(reply.endswith(q) for q in questions)


def test_characters_sound_different(provider: OfflineProvider) -> None:
    for message in MESSAGES:
        camille = provider.reply(request(message, character="camille", level="B1"))
        lucas = provider.reply(request(message, character="lucas", level="B1"))
        assert camille != lucas


def test_first_turn_greets(provider: OfflineProvider) -> None:
    greetings = LIBRARY.get("lucas").offline["a1a2"]["greetings"]
    reply = provider.reply(request("Bonjour !", character="lucas"))
    assert any(reply.startswith(g) for g in greetings)


# --- level ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("character", CHARACTER_IDS)
def test_a1_replies_are_shorter_than_c1(provider: OfflineProvider, character: str) -> None:
    history = [("user", "Salut"), ("assistant", "Salut ! Ça va ?")]

    def average(level: str) -> float:
        replies = [provider.reply(request(m, character=character, level=level, history=history)) for m in MESSAGES]
        return sum(words(r) for r in replies) / len(replies)

    assert average("A1") * 2 < average("C1")
    assert average("A1") <= average("A2") <= average("B2") <= average("C2")


@pytest.mark.parametrize("character", CHARACTER_IDS)
def test_a1_sentences_are_short(provider: OfflineProvider, character: str) -> None:
    for message in MESSAGES:
        reply = provider.reply(request(message, character=character, level="A1",
                                       history=[("user", "Salut"), ("assistant", "Salut !")]))
        assert words(reply) <= 20, reply
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", reply) if s]
        assert max(words(s) for s in sentences) <= 9, reply


def test_unknown_level_speaks_simply(provider: OfflineProvider) -> None:
    simplest = provider.reply(request("J'aime le sport.", level="A1"))
    assert provider.reply(request("J'aime le sport.", level="??")) == simplest


def test_missing_band_uses_nearest_phrasebook(provider: OfflineProvider) -> None:
    character = Character(id="mini", name="Mini", description="d", target_language="fr", voice="alloy",
                          setting="s", levels=("a1",),
                          offline={"a1a2": {"follow_ups": ["Tu aimes le thé ?"], "openers": ["Ah bon !"]}})
    reply = provider.reply(ReplyRequest(character=character, level="C2", history=[("user", "x"), ("assistant", "y")],
                                        user_message="Je ne sais pas.", corrections=[], corrected_text=None))
    assert reply == "Ah bon ! Tu aimes le thé ?"


def test_character_without_phrasebook_still_answers(provider: OfflineProvider) -> None:
    character = Character(id="bare", name="Bare", description="d", target_language="fr", voice="alloy",
                          setting="s", levels=("a1",), offline={})
    message = "J'aime les chat."
    reply = provider.reply(ReplyRequest(character=character, level="B1", history=[], user_message=message,
                                        corrections=[error(message, "chat", "chats")], corrected_text=None))
    assert "chats" in reply and reply.endswith("?")


# --- kind redirect --------------------------------------------------------------------------------


def redirect_variants(band: str) -> list[str]:
    data = yaml.safe_load((REPO_PROMPTS / "tutor" / "redirect.yaml").read_text(encoding="utf-8"))
    return data["fr"][band]


def test_redirect_is_deterministic_and_level_appropriate() -> None:
    assert kind_redirect("fr", "A1", "turn-1") == kind_redirect("fr", "a1", "turn-1")
    assert kind_redirect("fr", "A2", "turn-1") in redirect_variants("a1a2")
    assert kind_redirect("fr", "B2", "turn-1") in redirect_variants("b1b2")
    assert kind_redirect("fr", "C1", "turn-1") in redirect_variants("c1c2")
    assert len({kind_redirect("fr", "A1", f"turn-{i}") for i in range(50)}) > 2


def test_redirect_file_is_kind_and_short() -> None:
    for band in ("a1a2", "b1b2", "c1c2"):
        variants = redirect_variants(band)
        assert len(variants) >= 3
        assert all("?" in v or "raconte" in v.lower() or "parle" in v.lower() or "dis-moi" in v.lower()
                   for v in variants)
    assert max(words(v) for v in redirect_variants("a1a2")) <= 12


def test_redirect_unknown_language_falls_back_to_french() -> None:
    assert kind_redirect("xx", "B1", "seed") in redirect_variants("b1b2")


def test_redirect_reads_the_prompts_folder(tmp_path: Path) -> None:
    (tmp_path / "tutor").mkdir()
    (tmp_path / "tutor" / "redirect.yaml").write_text(
        "fr:\n  a1a2: ['Parlons du temps ?']\n  a2: ['Parlons de musique ?']\n", encoding="utf-8")
    assert kind_redirect("fr", "A1", "s", prompts_root=tmp_path) == "Parlons du temps ?"
    assert kind_redirect("fr", "A2", "s", prompts_root=tmp_path) == "Parlons de musique ?"
    assert kind_redirect("fr", "C2", "s", prompts_root=tmp_path) == "Parlons du temps ?"  # nearest band

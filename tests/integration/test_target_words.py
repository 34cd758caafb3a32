"""Target words in conversation, on the real stack: a session offers the learner's due
cards and a few new words, each turn records what it offered, the reply is asked to use
them (the offline one offers one), and the learner's use of one becomes a review."""
from __future__ import annotations

from tests.support.client import Learner, turn_result_for
from tests.support.stack import llm_worker_stopped
from tests.support.waits import eventually

CONTENT_WORDS = {"noun", "verb", "adjective", "adverb"}


def word_id(learner: Learner, lemma: str) -> int:
    items = learner.get("/api/v1/vocabulary", params={"q": lemma, "per_page": 50}).json()["items"]
    return next(item["id"] for item in items if item["lemma"] == lemma)


def due_word(stack, learner: Learner, lemma: str) -> int:
    """A card for `lemma`, due now: reviewed once ("again"), then its due date moved back
    an hour (the learning step would otherwise make it due in a minute)."""
    word = word_id(learner, lemma)
    assert learner.post("/api/v1/progress/review", {"word_id": word, "rating": 0}).status_code == 200
    with stack.database() as connection:
        connection.execute("UPDATE cards SET due = due - interval '1 hour' WHERE word_id = %s AND user_id = %s",
                           (word, learner.user["id"]))
    return word


def finished_turn(learner: Learner, session_id: str, content: str, **fields) -> tuple[dict, dict]:
    """(the turn as the 202 answered it, the finished turn)."""
    response = learner.send(session_id, content, **fields)
    assert response.status_code == 202, response.text
    accepted = response.json()["turn"]
    turn = learner.get(f"/api/v1/turns/{accepted['id']}", params={"wait": 20}).json()
    assert turn["status"] == "complete", turn
    return accepted, turn


def conversation_reviews(learner: Learner, word: int, turn_id: str) -> list[dict]:
    """The word's reviews from that turn, once there is one (they are a task away)."""
    def found() -> list[dict]:
        response = learner.get(f"/api/v1/progress/{word}")
        assert response.status_code == 200, response.text
        history = response.json()["reviews"]
        return [review for review in history if review["turn_id"] == turn_id]

    return eventually(found, f"a conversation review of word {word} from turn {turn_id}", 15, interval=0.2)


def targets_of(learner: Learner, session_id: str) -> list[dict]:
    return learner.get(f"/api/v1/sessions/{session_id}").json()["target_words"]


def test_a_due_word_offered_as_a_target_and_used_correctly_becomes_a_good_review(stack, learner: Learner):
    chat = due_word(stack, learner, "chat")
    session = learner.new_session()
    offered = targets_of(learner, session["id"])
    assert offered[0] == {"word_id": chat, "lemma": "chat", "translation": "cat"}, "the due card comes first"

    accepted, turn = finished_turn(learner, session["id"], "J'ai un petit chat noir.")

    assert accepted["target_words"] == offered == turn["target_words"], "the turn records what it was offered"
    [entry] = [e for e in turn["word_feedback"] if e["word_id"] == chat]
    assert (entry["usage"], entry["suggested"], entry["known"]) == ("used_correctly", False, True)
    [review] = conversation_reviews(learner, chat, turn["id"])
    assert (review["source"], review["rating_name"]) == ("conversation", "good")
    # Practised now: the session's targets are chosen again without it.
    eventually(lambda: chat not in {w["word_id"] for w in targets_of(learner, session["id"])},
               "the word used correctly leaves the session's targets")


def test_a_target_word_used_with_an_error_becomes_an_again_review(stack, learner: Learner):
    ami = due_word(stack, learner, "ami")
    session = learner.new_session()
    assert ami in {w["word_id"] for w in targets_of(learner, session["id"])}

    _, turn = finished_turn(learner, session["id"], "Je vais au marché avec mes amie.")

    [entry] = [e for e in turn["word_feedback"] if e["word_id"] == ami]
    assert entry["usage"] == "used_with_error"
    [review] = conversation_reviews(learner, ami, turn["id"])
    assert (review["source"], review["rating_name"]) == ("conversation", "again")


def test_a_target_the_client_also_suggested_is_one_review_and_both_spellings_work(stack, learner: Learner):
    chat = due_word(stack, learner, "chat")
    session = learner.new_session()
    for spelling in ("suggested_words", "suggested_word_ids"):
        _, turn = finished_turn(learner, session["id"], "Le chat dort.", **{spelling: [chat]})
        assert [e["suggested"] for e in turn["word_feedback"] if e["word_id"] == chat] == [True]
        assert len(conversation_reviews(learner, chat, turn["id"])) == 1, "once per word per turn"
    both = learner.send(session["id"], "Le chat dort.", suggested_words=[chat], suggested_word_ids=[chat])
    assert both.status_code == 422 and "suggested_words" in both.json()["error"]["details"]["json"]


def test_a_learner_without_cards_is_offered_frequent_content_words_at_their_level(learner: Learner):
    session = learner.new_session()
    offered = targets_of(learner, session["id"])
    assert len(offered) == 2, "no due card: the new words only"
    words = [learner.get(f"/api/v1/vocabulary/{w['word_id']}").json() for w in offered]
    assert all(word["pos"] in CONTENT_WORDS and word["cefr_level"] == "A1" for word in words), words
    assert words[0]["frequency_rank"] < words[1]["frequency_rank"]
    assert [w["lemma"] for w in offered] == ["être", "avoir"], "the sample vocabulary's most frequent ones"

    # A new target word used is found though the learner has no card for it, and becomes
    # one; the target not used is not reported.
    _, turn = finished_turn(learner, session["id"], "Je suis content.")
    etre, avoir = offered[0]["word_id"], offered[1]["word_id"]
    [entry] = [e for e in turn["word_feedback"] if e["word_id"] == etre]
    assert (entry["usage"], entry["known"], entry["suggested"]) == ("used_correctly", False, False)
    assert avoir not in {e["word_id"] for e in turn["word_feedback"]}
    [review] = conversation_reviews(learner, etre, turn["id"])
    assert (review["source"], review["rating_name"]) == ("conversation", "good")


def test_the_offline_reply_offers_one_of_the_targets(stack, learner: Learner):
    due_word(stack, learner, "chien")
    session = learner.new_session()
    _, turn = finished_turn(learner, session["id"], "Bonjour ! Je suis étudiant.")
    reply = turn["assistant_message"]["content"]
    assert turn["reply_provider"] == "offline"
    assert any(f"« {word['lemma']} »" in reply for word in turn["target_words"]), reply


def test_the_models_prompt_lists_the_target_words(stack, learner: Learner, fake):
    due_word(stack, learner, "chien")
    session = learner.new_session()
    with llm_worker_stopped(stack) as resume, learner.socket(f"/api/v1/sessions/{session['id']}/ws") as socket:
        resume(**fake.env(), PRIMARY_LLM_PROVIDER="openai", SECONDARY_LLM_PROVIDER="")
        socket.next_event()
        turn = learner.send(session["id"], "Bonjour ! J'aime les animaux.").json()["turn"]
        result = [e for e in socket.until(turn_result_for(turn["id"])) if e["type"] == "turn_result"][-1]
    assert result["data"]["turn"]["reply_provider"] == "openai"
    request = [c.body for c in fake.openai.calls("/v1/chat/completions") if c.body.get("stream")][-1]
    system = request["messages"][0]["content"]
    assert "Words the learner is practising" in system
    assert "- chien (dog)" in system
    assert all(f"- {w['lemma']} ({w['translation']})" in system for w in result["data"]["turn"]["target_words"])


def test_a_conversation_review_that_makes_seven_days_in_a_row_unlocks_the_streak(stack, learner: Learner):
    """Reviews on the six days before today, none today: the turn's conversation review is
    the seventh day, and the conversation-reviews task unlocks (and announces) the streak."""
    chat = word_id(learner, "chat")
    with stack.database() as connection:  # written directly: a flashcard review would ask for a check itself
        connection.execute("""
            INSERT INTO cards (user_id, word_id, state, step, stability, difficulty, due, last_review, reps, lapses,
                               created_at)
            VALUES (%s, %s, 2, NULL, 3, 5, now() - interval '1 hour', now() - interval '1 day', 6, 0,
                    now() - interval '7 days')
        """, (learner.user["id"], chat))
        for days_ago in range(1, 7):
            connection.execute("""
                INSERT INTO review_logs (user_id, word_id, rating, reviewed_at, source, previous_state, result)
                VALUES (%s, %s, 3, now() - %s * interval '1 day', 'review', 2,
                        jsonb_build_object('state', 'review', 'due', now()))
            """, (learner.user["id"], chat, days_ago))
    session = learner.new_session()
    with learner.socket("/api/v1/ws") as socket:
        # The session's first turn asks for a full check; once it has spoken, only the
        # conversation reviews of the next turn can bring the seventh day.
        _, first = finished_turn(learner, session["id"], "Bonjour, je m'appelle Marie.")
        reviewed = {"used_correctly", "used_with_error"}
        used = [entry for entry in first["word_feedback"] if entry.get("usage") in reviewed]
        assert used == [], "the first turn uses no word: it has no conversation review of its own"
        socket.until(lambda e: e["type"] == "achievement_unlocked" and e["data"]["achievement"]["code"] == "first_turn")
        listed = {a["code"]: a["unlocked_at"] for a in learner.get("/api/v1/achievements").json()["achievements"]}
        assert listed["streak_7"] is None
        _, turn = finished_turn(learner, session["id"], "J'ai un petit chat noir.")
        conversation_reviews(learner, chat, turn["id"])
        event = socket.until(lambda e: e["type"] == "achievement_unlocked")[-1]
    assert event["data"]["achievement"]["code"] == "streak_7"
    listed = {a["code"]: a["unlocked_at"] for a in learner.get("/api/v1/achievements").json()["achievements"]}
    assert listed["streak_7"] and listed["reviews_100"] is None and listed["words_known_100"] is None

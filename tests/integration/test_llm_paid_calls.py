"""One paid call per stage per turn (DESIGN §4), counted in the loopback model server's
request log on a real stack whose workers call it through the official SDK.

The model answers slowly (about a second per request, the reply streaming for two more),
longer than this stack's republish interval (2 s), sweep interval (1 s) and stage lease
(3 s): a sweeper that re-sent work in progress, or a lease that was not kept alive, would
show up here as a second request for the same stage. Every learner message carries a
marker, and each request names the message it is about (moderation's `input`, the last
user message of the reply and of the grammar pass), so each call is put down to its
turn. Calls are counted only once the system says the work is done: every turn finished
and announced, its outbox entry gone, and no task left in (or running from) the `llm`
and `nlp` queues.
"""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

from domain.greetings import GREETING_INSTRUCTION
from tests.support.client import Learner, register
from tests.support.fake_llm import FakeLLM, FakeProvider, RecordedRequest, _kind_of
from tests.support.signals import held, outbox_left, published, queued
from tests.support.stack import Stack, fresh_database, running_stack
from tests.support.waits import eventually

HINT_LIST = "1. J'aime le café.\n2. Je travaille à Lyon.\n3. Et toi, tu aimes Paris ?"
STAGES = ("moderation", "grammar", "reply")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as servers:
        yield servers


@pytest.fixture(scope="module")
def paid_stack(stack: Stack, fake: FakeLLM) -> Iterator[Stack]:
    """A stack (web, workers, beat) whose models are the fake OpenAI server only: any
    failure falls back offline, never to a second provider's bill."""
    with running_stack(
        "test-paid",
        extra_env={**fake.env(), "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": "",
                   "LLM_REQUEST_TIMEOUT_SECONDS": "10", "LLM_MAX_RETRIES": "1",
                   "OPENAI_REQUESTS_PER_MINUTE": "100000"},
        database_url=fresh_database(stack, migrate=False),
        redis_url=stack.env["REDIS_URL"].rsplit("/", 1)[0] + "/2",  # its own queues and keys
    ) as running:
        yield running


@pytest.fixture
def model(fake: FakeLLM) -> FakeProvider:
    """The fake OpenAI server, healthy, with an empty request log; corrections it answers
    are valid (none), so a grammar pass is never asked twice for a bad answer."""
    fake.openai.reset()
    fake.anthropic.reset()
    fake.openai.up()
    fake.openai.reply_json = {"corrections": []}
    return fake.openai


@pytest.fixture
def broker(paid_stack: Stack) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(paid_stack.env["REDIS_URL"])
    yield client
    client.close()


# --- learners and their turns ------------------------------------------------------------


@dataclass
class Conversation:
    learner: Learner
    session_id: str
    tag: str  # in every message of this conversation, and so in its hint requests' transcripts

    @classmethod
    def start(cls, stack: Stack) -> Conversation:
        learner = register(stack.base_url, stack.ws_url)
        return cls(learner, learner.new_session(level="B1")["id"], f"paid{uuid.uuid4().hex[:8]}")

    def say(self, number: int) -> Turn:
        text = f"Hier, je suis allé au marché avec mes amie {self.tag}n{number}."
        response = self.learner.send(self.session_id, text)
        assert response.status_code == 202, response.text
        return Turn(self, response.json()["turn"]["id"], text)

    def ask_hint(self) -> str:
        response = self.learner.post(f"/api/v1/sessions/{self.session_id}/hints")
        assert response.status_code == 202, response.text
        return response.json()["id"]

    def hints(self) -> list[dict]:
        return self.learner.get(f"/api/v1/sessions/{self.session_id}/hints").json()["items"]


@dataclass
class Turn:
    conversation: Conversation
    id: str
    text: str

    def wait(self, timeout: float = 45) -> dict:
        """The finished turn (GET /turns/{id} long-polls until its turn_result)."""
        def finished() -> dict | None:
            view = self.conversation.learner.get(f"/api/v1/turns/{self.id}", params={"wait": 10}).json()
            return view if view["status"] != "pending" else None

        return eventually(finished, f"turn {self.id} finished", timeout, interval=0)


def finish(turns: list[Turn]) -> None:
    """Every turn completed, by the model, not degraded."""
    for turn in turns:
        view = turn.wait()
        assert (view["status"], view["reply_provider"], view["degraded"]) == ("complete", "openai", False), view


# --- what the model server was asked -------------------------------------------------------


def subject(request: RecordedRequest) -> tuple[str, str]:
    """(stage, what the call is about): moderation and the grammar pass are about the
    learner's message, the reply too (its last user message); a hint's last message is
    the conversation so far, a memory fold's the summary so far."""
    kind, body = _kind_of(request), request.body if isinstance(request.body, dict) else {}
    if kind == "moderation":
        return "moderation", body.get("input", "")
    last = (body.get("messages") or [{}])[-1].get("content", "")
    if kind == "json":
        return "grammar", last
    if kind == "reply" and last == GREETING_INSTRUCTION:
        return "greeting", last
    if kind == "reply" and last.startswith("The conversation so far:"):
        return "hint", last
    if kind == "reply" and last.startswith("Summary so far:"):
        return "summary", last
    return kind, last


def paid_calls(model: FakeProvider, turns: list[Turn], conversations: list[Conversation]
               ) -> tuple[Counter, Counter, list[tuple[str, str]]]:
    """(calls per (turn id, stage), hint calls per conversation tag, calls put down to
    neither), from the model server's request log."""
    by_text = {turn.text: turn.id for turn in turns}
    per_turn: Counter = Counter()
    per_hint: Counter = Counter()
    unattributed = []
    with model._lock:
        log = list(model.requests)
    for request in log:
        stage, about = subject(request)
        if stage in STAGES and about in by_text:
            per_turn[by_text[about], stage] += 1
        elif stage == "greeting":
            continue  # a story session's opening line (tests/integration/test_session_lifecycle.py counts it)
        elif stage == "hint" and (tags := [c.tag for c in conversations if c.tag in about]):
            assert len(tags) == 1, f"a hint request about several conversations: {about!r}"
            per_hint[tags[0]] += 1
        else:
            unattributed.append((stage, about[:120]))
    return per_turn, per_hint, unattributed


# --- when the work is done -------------------------------------------------------------------


def llm_and_nlp_tasks(stack: Stack, broker: redis.Redis) -> set[str]:
    """The llm and nlp tasks queued, or taken by a running worker and not finished. (The
    queues are read first: a task taken in between is then held.)"""
    waiting = {"queued"} if queued(broker, "llm", "nlp") else set()
    return waiting | held(stack, "llm", "nlp")


def wait_until_done(stack: Stack, broker: redis.Redis, turns: list[Turn], hint_ids: list[str]) -> None:
    """Until the system says all this work is done: every turn's turn_result published,
    their and the hints' outbox entries gone, and no llm or nlp task queued or running
    (a killed worker's tasks went with it: the outbox sent their work again)."""
    def announced() -> bool:
        return all(turn.id in turn_results(stack, turn.conversation.learner) for turn in turns)

    eventually(announced, "every turn_result published", timeout=45)
    eventually(lambda: outbox_left(stack, [t.id for t in turns] + hint_ids) == 0, "the outbox entries gone",
               timeout=45)
    eventually(lambda: not llm_and_nlp_tasks(stack, broker), "the llm and nlp queues drained", timeout=45)


def turn_results(stack: Stack, learner: Learner) -> Counter:
    return Counter(event["data"]["turn"]["id"] for event in published(stack, learner.user["id"], "turn_result"))


def messages_per_turn(stack: Stack, turns: list[Turn]) -> dict[str, Counter]:
    with stack.database() as conn:
        rows = conn.execute("SELECT turn_id::text, role, count(*) FROM messages WHERE turn_id = ANY(%s::uuid[]) "
                            "GROUP BY turn_id, role", ([t.id for t in turns],)).fetchall()
    found: dict[str, Counter] = {turn.id: Counter() for turn in turns}
    for turn_id, role, count in rows:
        found[turn_id][role] = count
    return found


def assert_each_turn_finished_once(stack: Stack, turns: list[Turn]) -> None:
    assert all(dict(roles) == {"user": 1, "assistant": 1} for roles in messages_per_turn(stack, turns).values()), \
        messages_per_turn(stack, turns)
    for turn in turns:
        assert turn_results(stack, turn.conversation.learner)[turn.id] == 1, f"turn_result of {turn.id} once"


def hint_calls_recorded(model: FakeProvider, conversation: Conversation) -> bool:
    with model._lock:
        log = list(model.requests)
    return any(subject(r)[0] == "hint" and conversation.tag in subject(r)[1] for r in log)


# --- the tests -------------------------------------------------------------------------------


def test_over_a_run_of_turns_each_stage_is_paid_for_once_and_each_hint_once(paid_stack, model, broker):
    model.delay = 1.0  # before every response: longer than the sweep interval
    model.piece_delay = 0.4  # and the reply streams for 2 s more: the turn outlasts the republish interval and lease
    conversations = [Conversation.start(paid_stack) for _ in range(8)]
    turns: list[Turn] = []
    for number in (1, 2):  # as learners do: the next message after the reply
        sent = [conversation.say(number) for conversation in conversations]
        finish(sent)
        turns += sent
    model.reply_text = HINT_LIST
    hint_ids = [conversation.ask_hint() for conversation in conversations]
    for conversation, hint_id in zip(conversations, hint_ids):
        eventually(lambda: [h for h in conversation.hints() if h["id"] == hint_id and h["status"] == "ready"],
                   f"hint {hint_id} ready", timeout=45)

    wait_until_done(paid_stack, broker, turns, hint_ids)

    per_turn, per_hint, unattributed = paid_calls(model, turns, conversations)
    assert len(turns) == 16
    for turn in turns:
        calls = {stage: per_turn[turn.id, stage] for stage in STAGES}
        assert calls["moderation"] == 1 and calls["reply"] == 1 and calls["grammar"] <= 1, (turn.text, calls)
    assert sum(per_turn[turn.id, "grammar"] for turn in turns) == len(turns), "the French grammar pass ran"
    assert per_hint == {conversation.tag: 1 for conversation in conversations}, "one model call per hint request"
    assert unattributed == [], "no other call was paid for"
    assert_each_turn_finished_once(paid_stack, turns)
    for conversation in conversations:
        hints = conversation.hints()
        assert [(h["provider"], h["degraded"]) for h in hints] == [("openai", False)], hints
        assert len(published(paid_stack, conversation.learner.user["id"], "hint")) == 1, "the hint event published once"


def test_a_worker_killed_mid_call_costs_at_most_one_repeat_of_that_call(paid_stack, model, broker):
    model.delay = 1.0
    earlier = [Conversation.start(paid_stack) for _ in range(2)]
    done_before = [conversation.say(1) for conversation in earlier]
    finish(done_before)

    model.delay = 4.0  # the calls are out when the worker dies
    model.reply_text = HINT_LIST  # the replies of these turns, and the hint, read as a hint list
    caught = [Conversation.start(paid_stack) for _ in range(4)]
    in_flight = [conversation.say(1) for conversation in caught]
    hint_id = earlier[0].ask_hint()  # its transcript carries the conversation's tag

    def all_calls_out() -> bool:
        per_turn, _, _ = paid_calls(model, in_flight, caught)
        return all(per_turn[turn.id, stage] for turn in in_flight for stage in STAGES) \
            and hint_calls_recorded(model, earlier[0])

    eventually(all_calls_out, "the model asked for every stage of the turns and for the hint", timeout=30)
    paid_stack.kill_worker("llm")  # SIGKILL, mid-call: no warm shutdown, no ack
    try:
        with paid_stack.database() as conn:  # what the dead worker stored before it died
            stored = {turn_id: dict(zip(STAGES, flags)) for turn_id, *flags in conn.execute(
                "SELECT id::text, moderation IS NOT NULL, grammar IS NOT NULL, reply_text IS NOT NULL FROM turns "
                "WHERE id = ANY(%s::uuid[])", ([t.id for t in in_flight],)).fetchall()}
            hint_stored = conn.execute("SELECT suggestions IS NOT NULL FROM hints WHERE id = %s",
                                       (hint_id,)).fetchone()[0]
        model.delay = 1.0
    finally:
        paid_stack.start_ready_worker("llm")
    later = [Conversation.start(paid_stack) for _ in range(2)]
    done_after = [conversation.say(1) for conversation in later]  # not in flight when the worker died
    everything = done_before + in_flight + done_after
    finish(everything)
    eventually(lambda: [h for h in earlier[0].hints() if h["id"] == hint_id and h["status"] == "ready"],
               f"hint {hint_id} ready", timeout=45)

    wait_until_done(paid_stack, broker, everything, [hint_id])

    per_turn, per_hint, unattributed = paid_calls(model, everything, earlier + caught + later)
    assert any(not done for stages in stored.values() for done in stages.values()), \
        "the worker died with calls in flight"
    for turn in in_flight:
        calls = {stage: per_turn[turn.id, stage] for stage in STAGES}
        expected = {stage: 1 if stored[turn.id][stage] else 2 for stage in STAGES}
        assert calls == expected, (f"turn {turn.text!r}: a stage stored before the kill is not asked again, "
                                   f"one in flight is asked once more", calls, stored[turn.id])
    for turn in done_before + done_after:
        calls = {stage: per_turn[turn.id, stage] for stage in STAGES}
        assert calls == {"moderation": 1, "grammar": 1, "reply": 1}, (turn.text, calls)
    assert per_hint == {earlier[0].tag: 1 if hint_stored else 2}, "the hint in flight asked once more at most"
    assert unattributed == [], "no other call was paid for"
    assert_each_turn_finished_once(paid_stack, everything)
    assert len(published(paid_stack, earlier[0].learner.user["id"], "hint")) == 1, "the hint event published once"


# --- a database outage while the model answers ------------------------------------------------


@pytest.fixture(scope="module")
def patient_stack(stack: Stack, fake: FakeLLM) -> Iterator[Stack]:
    """As `paid_stack`, with stage leases longer than the outage below: no other delivery
    may take the work over, so a second call could only come from a dropped result."""
    with running_stack(
        "test-paid-outage",
        extra_env={**fake.env(), "PRIMARY_LLM_PROVIDER": "openai", "SECONDARY_LLM_PROVIDER": "",
                   "LLM_REQUEST_TIMEOUT_SECONDS": "20", "LLM_MAX_RETRIES": "1",
                   "OPENAI_REQUESTS_PER_MINUTE": "100000", "STAGE_LEASE_SECONDS": "60"},
        database_url=fresh_database(stack, migrate=False),
        redis_url=stack.env["REDIS_URL"].rsplit("/", 1)[0] + "/3",
    ) as running:
        yield running


def test_a_database_outage_while_the_model_answers_costs_no_second_call(stack, patient_stack, model):
    """The answers come back while PostgreSQL is down: the worker keeps them and writes
    them when it is back, instead of dropping them and paying for them again."""
    if stack.postgres_server is None:
        pytest.skip("needs the embedded PostgreSQL to stop and start it")
    model.delay = 4.0  # every call is out before PostgreSQL stops, and answers after
    conversations = [Conversation.start(patient_stack) for _ in range(3)]
    turns = [conversation.say(1) for conversation in conversations]

    def all_calls_out() -> bool:
        per_turn, _, _ = paid_calls(model, turns, conversations)
        return all(per_turn[turn.id, stage] for turn in turns for stage in STAGES)

    eventually(all_calls_out, "the model asked for every stage of the turns", timeout=30)
    llm_log = patient_stack.data_dir / "worker_llm.log"
    offset = llm_log.stat().st_size
    stack.stop_postgres()
    try:
        eventually(lambda: "a paid result is kept" in llm_log.read_bytes()[offset:].decode(errors="replace"),
                   "an answer came back while PostgreSQL was down", timeout=30)
    finally:
        stack.start_postgres()
    model.delay = 0.0
    finish(turns)
    broker = redis.Redis.from_url(patient_stack.env["REDIS_URL"])
    try:
        wait_until_done(patient_stack, broker, turns, [])
    finally:
        broker.close()

    per_turn, _, unattributed = paid_calls(model, turns, conversations)
    for turn in turns:
        assert {stage: per_turn[turn.id, stage] for stage in STAGES} == dict.fromkeys(STAGES, 1), turn.text
    assert unattributed == [], "no other call was paid for"
    assert_each_turn_finished_once(patient_stack, turns)

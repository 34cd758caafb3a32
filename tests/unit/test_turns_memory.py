from domain import memory


def test_token_estimate_grows_with_the_text_and_counts_framing():
    assert memory.estimate_tokens("") == memory.MESSAGE_OVERHEAD_TOKENS
    assert memory.estimate_tokens("a" * 35) == 10 + memory.MESSAGE_OVERHEAD_TOKENS


def test_newest_within_keeps_the_most_recent_messages_that_fit():
    messages = [("user", "x" * 35)] * 5  # 14 tokens each
    assert memory.newest_within(messages, 14 * 5) == 5
    assert memory.newest_within(messages, 14 * 3 + 13) == 3
    assert memory.newest_within(messages, 10) == 0
    assert memory.newest_within([], 100) == 0


def test_tutor_note_lists_each_correction_with_its_fix_and_category():
    original = "Je suis allé au marché avec mes amie."
    start = original.index("mes amie")
    note = memory.tutor_note([{"start": start, "end": start + 8, "category": "number_agreement",
                               "suggestions": ["mes amies"], "message": "..."}], original)
    assert '"mes amie" should be "mes amies" (number agreement)' in note
    assert "No mistake" not in note


def test_tutor_note_without_corrections_says_so():
    assert "No mistake worth correcting" in memory.tutor_note([], "Bonjour !")


def test_reply_system_prompt_carries_character_note_and_summary_in_that_order():
    prompt = memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[], original="Salut",
                                        summary="The learner lives in Oslo.")
    assert prompt.index("You are Camille.") < prompt.index("No mistake") < prompt.index("lives in Oslo")
    assert "remember" not in memory.reply_system_prompt(character_prompt="You are Camille.", corrections=[],
                                                        original="Salut", summary=None)


def test_offline_summary_keeps_the_learners_words_newest_first_within_a_bound():
    messages = [("user", f"message {i} " + "x" * 100) for i in range(40)] + [("assistant", "Ah bon ?")]
    summary = memory.offline_summary("Earlier facts.", messages, character_name="Camille")
    assert len(summary) <= 1200
    assert "message 39" in summary and "message 0 " not in summary
    assert "Ah bon" not in summary  # only what the learner said
    short = memory.offline_summary(None, [("user", "J'habite à Lyon.")], character_name="Camille")
    assert short == "The learner said to Camille: J'habite à Lyon."

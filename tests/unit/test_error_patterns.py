from domain.language.error_patterns import pattern_of, patterns_in


def test_the_same_mistake_written_differently_has_one_key():
    first = pattern_of({"start": 0, "end": 8, "category": "gender_agreement", "suggestions": ["mes amies"]},
                       "mes amie sont là")
    second = pattern_of({"start": 4, "end": 13, "category": "gender_agreement", "suggestions": ["mes  amies"]},
                        "Et  Mes  amie ici")
    assert first.key == second.key == "gender_agreement:mes amie→mes amies"
    assert first.wrong == "mes amie" and first.fix == "mes amies"


def test_apostrophes_do_not_make_a_new_pattern():
    straight = pattern_of({"start": 0, "end": 4, "category": "elision", "suggestions": ["j'ai"]}, "je ai")
    curly = pattern_of({"start": 0, "end": 4, "category": "elision", "suggestions": ["j\u2019ai"]}, "je ai")
    assert straight.key == curly.key


def test_a_message_lists_each_pattern_once_in_its_order():
    text = "je ai vu mes amie et je ai ri"
    errors = [{"start": 21, "end": 26, "category": "elision", "suggestions": ["j'ai"]},
              {"start": 9, "end": 17, "category": "gender_agreement", "suggestions": ["mes amies"]},
              {"start": 0, "end": 5, "category": "elision", "suggestions": ["j'ai"]}]
    keys = [pattern.key for pattern in patterns_in(errors, text)]
    assert keys == ["elision:je ai→j'ai", "gender_agreement:mes amie→mes amies"]


def test_an_error_without_a_suggestion_still_has_a_key():
    assert pattern_of({"start": 0, "end": 3, "category": "spelling", "suggestions": []}, "bjr").key == "spelling:bjr→"

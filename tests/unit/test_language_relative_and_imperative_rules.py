"""The third round of French rules, on sentences written for them: "lequel" and "tout ce
que" (rules/antecedents.py), an affirmative imperative's pronouns (rules/imperatives.py),
"y" and "en" (rules/y_and_en.py), "lui"/"leur" in compound tenses, pronouns and adverbs
in their place (rules/word_order.py), and "jouer de/à" (rules/prepositions.py)."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from tests.support.french import found, needs_dela

pytestmark = needs_dela


@pytest.mark.parametrize("text, expected", [
    ("C'est la raison pour lequel je suis venu.", [("lequel", "laquelle")]),
    ("Ce sont les amis avec lequel je joue au foot.", [("lequel", "lesquels")]),
    ("J'ai perdu le livre dans laquelle j'ai mis la photo.", [("laquelle", "lequel")]),
    ("C'est une réunion auquel je vais tous les lundis.", [("auquel", "à laquelle")]),
    ("Ce sont des questions à lesquels je pense souvent.", [("à lesquels", "auxquelles")]),
])
def test_lequel_takes_the_gender_and_number_of_its_noun(text, expected):
    assert found(text, "relative_pronoun_agreement") == expected


@pytest.mark.parametrize("text", [
    "C'est le stylo avec lequel j'écris.",
    "La table sur laquelle il y a un vase est vieille.",
    "Les questions auxquelles je pense sont difficiles.",
    "Le problème auquel je pense est simple.",
    "La fille de mon voisin avec lequel je parle est gentille.",  # either noun may be meant
    "La maison des voisins dans laquelle j'ai dormi est grande.",
    "Voici deux livres : lequel préfères-tu ?",
])
def test_lequel_left_alone(text):
    assert found(text, "relative_pronoun_agreement") == []


@pytest.mark.parametrize("text, expected", [
    ("Tout que je veux, c'est dormir.", [("Tout que", "Tout ce que")]),
    ("Je crois tout qu'il dit.", [("tout qu'", "tout ce qu'")]),
    ("Il a fait tout qui était possible.", [("tout qui", "tout ce qui")]),
])
def test_tout_needs_ce_before_a_relative(text, expected):
    assert found(text, "tout_ce_que") == expected


@pytest.mark.parametrize("text", ["Tout ce que je veux, c'est dormir.", "Ce n'est pas du tout que je refuse."])
def test_tout_ce_que_left_alone(text):
    assert found(text, "tout_ce_que") == []


@pytest.mark.parametrize("text, expected", [
    ("Donne-me le livre, s'il te plaît.", [("Donne-me", "Donne-moi")]),
    ("Lève-te tout de suite !", [("Lève-te", "Lève-toi")]),
    ("Montre-me tes photos de vacances.", [("Montre-me", "Montre-moi")]),
])
def test_me_and_te_become_moi_and_toi_after_an_imperative(text, expected):
    assert found(text, "imperative_stressed_pronoun") == expected


@pytest.mark.parametrize("text, expected", [
    ("Donne-moi-le.", [("Donne-moi-le", "Donne-le-moi")]),
    ("Rends-nous-la, s'il te plaît.", [("Rends-nous-la", "Rends-la-nous")]),
    ("Ton livre ? Donne-lui le.", [("Donne-lui le", "Donne-le-lui")]),
])
def test_the_direct_object_comes_first_after_an_imperative(text, expected):
    assert found(text, "imperative_pronoun_order") == expected


@pytest.mark.parametrize("text", [
    "Lève-toi !", "Donne-m'en deux.", "Donne-le-moi.", "Dis-moi la vérité.", "Dis-moi le nom de ta rue.",
    "Va te coucher.", "Va-te coucher.", "Il l'a fait lui-même.",
])
def test_imperative_pronouns_left_alone(text):
    assert found(text, "imperative_stressed_pronoun") == found(text, "imperative_pronoun_order") == []


@pytest.mark.parametrize("text, expected", [
    ("Je vais lui le dire demain.", [("lui le", "le lui")]),
    ("Tu peux le me prêter ?", [("le me", "me le")]),
    ("Il veut en y mettre.", [("en y", "y en")]),
])
def test_object_pronouns_before_an_infinitive_keep_their_order(text, expected):
    assert found(text, "pronoun_order") == expected


@pytest.mark.parametrize("text", ["Il va le lui donner.", "Je dois leur en parler.", "Tu peux me le prêter ?",
                                  "Il est tombé en y allant."])
def test_object_pronouns_before_an_infinitive_left_alone(text):
    assert found(text, "pronoun_order") == []


@pytest.mark.parametrize("text, expected", [
    ("Mes voisins ? Je les ai téléphoné hier.", [("les", "leur")]),
    ("Ma sœur ? Je l'ai téléphoné hier soir.", [("l'ai", "lui ai")]),
    ("Ma grand-mère ? Je la rends visite le dimanche.", [("la", "lui")]),
    ("Mon chef ? Je ne le fais pas confiance.", [("le", "lui")]),
    ("Mes parents ? Je les ai fait plaisir.", [("les", "leur")]),
])
def test_verbs_built_with_a_take_lui_leur_in_every_tense(text, expected):
    assert found(text, "indirect_object") == expected
    assert found(text, "participle_preceding_object") == [], "not a direct object: nothing agrees with it"


@pytest.mark.parametrize("text", ["Je le fais mal.", "Je l'appelle demain.", "Je les ai vues hier.",
                                  "Je lui fais confiance.", "Je l'ai fait hier."])
def test_direct_objects_left_alone(text):
    assert found(text, "indirect_object") == []


@pytest.mark.parametrize("text, expected", [
    ("Tu as besoin de ce livre ? Oui, j'y ai besoin.", [("y", "en")]),
    ("Je n'y ai pas besoin.", [("y", "en")]),
    ("Ce jour-là ? Je m'y souviens bien.", [("y", "en")]),
    ("Ce problème ? Je m'y occupe demain.", [("y", "en")]),
    ("Nous y avons besoin.", [("y", "en")]),
    ("Nous nous y souvenons.", [("y", "en")]),
])
def test_a_thing_after_de_is_taken_up_by_en(text, expected):
    assert found(text, "de_takes_en") == expected


@pytest.mark.parametrize("text, expected", [
    ("Ton examen ? J'en pense souvent.", [("en", "y")]),
    ("Le sport ? Je m'en intéresse beaucoup.", [("en", "y")]),
])
def test_a_thing_after_a_is_taken_up_by_y(text, expected):
    assert found(text, "a_takes_y") == expected


@pytest.mark.parametrize("text", ["Qu'en penses-tu ?", "J'en pense du bien.", "J'en pense beaucoup de bien.",
                                  "Je m'en souviens.", "J'y pense.", "J'en ai besoin.", "J'y suis habitué."])
def test_y_and_en_left_alone(text):
    assert found(text, "de_takes_en") == found(text, "a_takes_y") == []


@pytest.mark.parametrize("text, expected", [
    ("Des amis ? J'ai beaucoup.", [("J'ai", "J'en ai")]),
    ("Du temps ? Nous avons assez.", [("Nous avons", "Nous en avons")]),
])
def test_a_quantity_ending_the_clause_needs_en(text, expected):
    assert found(text, "quantity_is_en") == expected


@pytest.mark.parametrize("text", ["Je mange beaucoup.", "J'en ai beaucoup.", "J'ai beaucoup de livres."])
def test_quantities_left_alone(text):
    assert found(text, "quantity_is_en") == []


def test_an_indirect_question_after_an_imperative_takes_ce():
    assert found("Dis-moi qu'est-ce qui se passe.", "indirect_question") == [("qu'est-ce", "ce")]
    assert found("Dis-moi, qu'est-ce que tu veux ?", "indirect_question") == []


@pytest.mark.parametrize("text", [
    "C'est la raison pour lequel je suis venu.", "Tout que je veux, c'est dormir.", "Lève-te tout de suite !",
    "Donne-moi-le.", "Je vais lui le dire demain.", "Mes voisins ? Je les ai téléphoné hier.",
    "Tu as besoin de ce livre ? Oui, j'y ai besoin.", "Ton examen ? J'en pense souvent.", "Des amis ? J'ai beaucoup.",
    "Elle s'est levé à sept heures.", "La maison a été construit en 1900.",
])
def test_the_corrected_text_raises_nothing(text):
    corrected = check_grammar(text).corrected_text
    assert corrected != text
    assert check_grammar(corrected).errors == [], corrected


@pytest.mark.parametrize("text, expected", [
    ("Je toujours mange à midi.", [("toujours mange", "mange toujours")]),
    ("Il souvent va au cinéma.", [("souvent va", "va souvent")]),
    ("Je vraiment aime ce film.", [("Je vraiment aime", "J'aime vraiment")]),
    ("J'aime le chocolat beaucoup.", [("aime le chocolat beaucoup", "aime beaucoup le chocolat")]),
    ("Je connais Paris bien.", [("connais Paris bien", "connais bien Paris")]),
])
def test_adverbs_follow_a_simple_tense_verb(text, expected):
    assert found(text, "adverb_after_verb") == expected


@pytest.mark.parametrize("text", ["Je mange toujours à midi.", "J'aime beaucoup le chocolat.", "Il va bien.",
                                  "Je le connais bien.", "Tu fais ça bien.", "Nous aussi, nous aimons le jazz."])
def test_adverbs_after_the_verb_left_alone(text):
    assert found(text, "adverb_after_verb") == []


@pytest.mark.parametrize("text, expected", [
    ("Je joue le piano.", [("le", "du")]),
    ("Je joue la guitare le soir.", [("la", "de la")]),
    ("Elle joue à la guitare.", [("à la", "de la")]),
    ("Nous jouons le tennis.", [("le", "au")]),
])
def test_jouer_de_an_instrument_and_a_a_sport(text, expected):
    assert found(text, "jouer_preposition") == expected


@pytest.mark.parametrize("text", ["Je joue du piano.", "Je joue au tennis.", "Je joue de la guitare.",
                                  "Il joue le rôle du père."])
def test_jouer_left_alone(text):
    assert found(text, "jouer_preposition") == []

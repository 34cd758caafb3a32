"""Object pronouns, "en", "dont", "où", reflexives, and the order of pronouns, adjectives,
adverbs and questions (rules/pronouns.py, antecedents.py, word_order.py), on sentences written for the rules."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from tests.support.french import found, needs_dela

pytestmark = needs_dela


@pytest.mark.parametrize("text, expected", [
    ("Je lui remercie pour son aide.", [("lui", "le")]),
    ("Nous leur invitons samedi.", [("leur", "les")]),
    ("Je lui écoute tous les soirs.", [("lui écoute", "l'écoute")]),
    ("Tu lui as rencontré où ?", [("lui as", "l'as")]),
])
def test_direct_object_verbs_take_le_la_les(text, expected):
    assert found(text, "direct_object") == expected


@pytest.mark.parametrize("text, expected", [
    ("Ma tante ? Je la montre mes photos.", [("la", "lui")]),
    ("Mes voisins ? Je les ai prêté ma voiture.", [("les", "leur")]),
])
def test_a_verb_of_giving_with_its_thing_takes_lui_leur(text, expected):
    assert found(text, "indirect_object") == expected


@pytest.mark.parametrize("text", [
    "Je la vois tous les jours.",
    "Je l'ai envoyée la semaine dernière.",   # a time phrase, not the thing given
    "Je le donne à Julie.",
    "Je lui parle souvent.",
    "Je lui offre des fleurs.",
    "Je les remercie.",
])
def test_object_pronouns_left_alone(text):
    assert not [e for e in check_grammar(text).errors if e.category == "pronoun"]


@pytest.mark.parametrize("text, expected", [
    ("Des croissants ? J'y achète trois.", [("y", "en")]),
    ("Des livres, nous y lisons plusieurs.", [("y", "en")]),
])
def test_a_quantity_without_its_noun_takes_en(text, expected):
    assert found(text, "quantity_is_en") == expected


@pytest.mark.parametrize("text", ["Il y a deux.", "J'y vais deux fois.", "J'en prends quatre."])
def test_y_left_alone(text):
    assert found(text, "quantity_is_en") == []


@pytest.mark.parametrize("text", [
    "Voilà l'outil que j'ai besoin.",
    "C'est un voyage que je me souviens très bien.",
    "C'est le chien que tu as peur ?",
])
def test_a_relative_after_a_de_construction_is_dont(text):
    assert found(text, "relative_dont") == [("que", "dont")]


@pytest.mark.parametrize("text", [
    "Voilà l'outil que j'ai besoin de réparer.",
    "C'est la ville que je préfère.",
    "Le gâteau que tu as envie d'acheter est cher.",
])
def test_que_left_alone(text):
    assert found(text, "relative_dont") == []


@pytest.mark.parametrize("text, expected", [
    ("Ta lettre ? J'ai la lu ce matin.", [("J'ai la lu", "Je l'ai lu")]),
    ("Nous avons lui répondu.", [("Nous avons lui répondu", "Nous lui avons répondu")]),
    ("Tu as y pensé ?", [("Tu as y pensé", "Tu y as pensé")]),
])
def test_an_object_pronoun_goes_before_the_auxiliary(text, expected):
    assert found(text, "pronoun_before_auxiliary") == expected


@pytest.mark.parametrize("text", ["Il a la vue.", "Nous avons les billets.", "Elle a le temps."])
def test_auxiliary_and_noun_phrase_left_alone(text):
    assert found(text, "pronoun_before_auxiliary") == []


@pytest.mark.parametrize("text, expected", [
    ("Je ne sais pas quand part-il.", [("part-il", "il part")]),
    ("Explique-moi comment fonctionne-t-elle.", [("fonctionne-t-elle", "elle fonctionne")]),
    ("Je me demande pourquoi se fâche-t-il.", [("se fâche-t-il", "il se fâche")]),
])
def test_an_indirect_question_is_not_inverted(text, expected):
    assert found(text, "indirect_question_order") == expected


@pytest.mark.parametrize("text", ["Quand part-il ?", "Comment va-t-elle ?", "Je sais quand il part."])
def test_direct_questions_keep_their_inversion(text):
    assert found(text, "indirect_question_order") == []


@pytest.mark.parametrize("text", [
    "Je lui remercie pour son aide.", "Nous avons lui répondu.", "Je ne sais pas quand part-il.",
    "Voilà l'outil que j'ai besoin.", "Des croissants ? J'y achète trois.",
])
def test_the_corrected_text_raises_nothing(text):
    assert check_grammar(check_grammar(text).corrected_text).errors == []


@pytest.mark.parametrize("text, expected", [
    ("Nous voulons se reposer un peu.", [("se", "nous")]),
    ("Tu ne peux pas s'asseoir ici.", [("s'asseoir", "t'asseoir")]),
    ("Je préfère se doucher le soir.", [("se", "me")]),
])
def test_the_reflexive_of_an_infinitive_matches_the_subject(text, expected):
    assert found(text, "reflexive_person") == expected


@pytest.mark.parametrize("text", ["Il veut se reposer.", "Elles aiment se promener.", "On va se voir."])
def test_third_person_reflexives_left_alone(text):
    assert found(text, "reflexive_person") == []


def test_the_pronoun_leur_takes_no_s():
    text = "Mes cousins ? Je leurs écris souvent."
    assert [(text[e.start:e.end], e.suggestions[0]) for e in check_grammar(text).errors] == [("leurs", "leur")]


@pytest.mark.parametrize("text, expected", [
    ("C'est tu qui as gagné !", [("tu", "toi")]),
    ("Qui a cassé le vase ? C'est il.", [("il", "lui")]),
])
def test_a_pronoun_after_cest_is_stressed(text, expected):
    assert found(text, "stressed_pronoun") == expected


@pytest.mark.parametrize("text, expected", [
    ("Dis-moi ce que te dérange.", [("que", "qui")]),
    ("Celui que gagne aura un prix.", [("que", "qui")]),
])
def test_ce_que_without_a_subject_is_ce_qui(text, expected):
    assert found(text, "relative_qui") == expected


def test_ce_qui_with_a_subject_is_ce_que():
    assert found("Fais ce qui tu veux.", "relative_que") == [("qui", "que")]


@pytest.mark.parametrize("text, expected", [
    ("Ta valise est lourde, le mien est léger.", [("le mien", "la mienne")]),
    ("Sa maison est grande mais la tienne est petite.", []),
    ("Cette chanson est plus belle que celui de l'an dernier.", [("celui", "celle")]),
    ("La voiture de mon père est plus vieille que celui de mon oncle.", [("celui", "celle")]),
])
def test_possessive_and_demonstrative_pronouns_take_the_gender_of_their_noun(text, expected):
    assert found(text, "pronoun_gender") == expected


@pytest.mark.parametrize("text", ["Ceux qui lisent beaucoup écrivent bien.", "J'aime tes livres, le mien est vieux."])
def test_pronouns_without_a_clear_antecedent_left_alone(text):
    assert found(text, "pronoun_gender") == []


@pytest.mark.parametrize("text, expected", [
    ("Elle moi prête son vélo.", [("moi", "me")]),
    ("Je toi attends ici.", [("toi attends", "t'attends")]),
])
def test_before_the_verb_the_object_pronoun_is_unstressed(text, expected):
    assert found(text, "unstressed_object") == expected


@pytest.mark.parametrize("text, expected", [
    ("Le dimanche, nous reposons à la maison.", [("reposons", "nous reposons")]),
    ("Tu dépêches ?", [("dépêches", "te dépêches")]),
    ("J'endors toujours devant la télé.", [("J'endors", "Je m'endors")]),
])
def test_without_an_object_these_verbs_are_pronominal(text, expected):
    assert found(text, "missing_reflexive") == expected


@pytest.mark.parametrize("text", ["Je réveille mon fils à sept heures.", "Il promène le chien.", "Je me repose."])
def test_the_same_verbs_with_an_object_left_alone(text):
    assert found(text, "missing_reflexive") == []


@pytest.mark.parametrize("text, expected", [
    ("Voici le village que ma mère est née.", [("que", "où")]),
    ("L'année que nous sommes partis, il a neigé.", [("que", "où")]),
])
def test_a_relative_before_an_etre_verb_is_ou(text, expected):
    assert found(text, "relative_ou") == expected


@pytest.mark.parametrize("text", ["Le film que je vais voir est long.", "La maison que j'habite est grande."])
def test_que_as_an_object_left_alone(text):
    assert found(text, "relative_ou") == []


@pytest.mark.parametrize("text, expected", [
    ("Nous avons loué un appartement joli.", [("appartement joli", "joli appartement")]),
    ("C'est une fille jeune.", [("fille jeune", "jeune fille")]),
])
def test_adjectives_of_beauty_age_goodness_size_come_first(text, expected):
    assert found(text, "adjective_before_noun") == expected


@pytest.mark.parametrize("text", ["Ce sont des chaussures bon marché.", "Il a les cheveux longs."])
def test_other_adjectives_after_the_noun_left_alone(text):
    assert found(text, "adjective_before_noun") == []


@pytest.mark.parametrize("text, expected", [
    ("Elle a dormi mal cette nuit.", [("dormi mal", "mal dormi")]),
    ("Tu as travaillé trop.", [("travaillé trop", "trop travaillé")]),
])
def test_short_adverbs_go_between_auxiliary_and_participle(text, expected):
    assert found(text, "adverb_before_participle") == expected


@pytest.mark.parametrize("text, expected", [
    ("Ton examen ? Je lui pense tout le temps.", [("Je lui", "J'y")]),
    ("Vos projets ? Nous leur réfléchissons.", [("leur", "y")]),
])
def test_penser_a_takes_y_not_lui(text, expected):
    assert found(text, "thought_takes_y") == expected


@pytest.mark.parametrize("text, expected", [
    ("Des croissants ? Oui, nous prenons six.", [("nous prenons", "nous en prenons")]),
    ("Des enfants ? Oui, j'ai trois.", [("j'ai", "j'en ai")]),
])
def test_a_number_standing_for_a_noun_needs_en(text, expected):
    assert found(text, "quantity_is_en") == expected


@pytest.mark.parametrize("text", ["Quel âge as-tu ? J'ai dix.", "J'en veux deux.", "Il est deux."])
def test_numbers_that_need_no_en_left_alone(text):
    assert found(text, "quantity_is_en") == []

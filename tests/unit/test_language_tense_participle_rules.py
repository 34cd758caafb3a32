"""Tenses a time word or a "si" clause calls for, the mood after an opinion, and the
participles that do not agree (domain/language/rules/tense_mood.py, participles.py), on
sentences written for the rules."""
from __future__ import annotations

import pytest

from domain.language import check_grammar
from tests.support.french import found, needs_dela

pytestmark = needs_dela


@pytest.mark.parametrize("text, expected", [
    ("Hier, je travaille jusqu'à minuit.", [("je travaille", "j'ai travaillé")]),
    ("Hier après-midi, nous visitons le château.", [("nous visitons", "nous avons visité")]),
    ("Hier, elles arrivent à Lyon.", [("elles arrivent", "elles sont arrivées")]),
])
def test_hier_calls_for_the_passe_compose(text, expected):
    assert found(text, "past_after_marker") == expected


@pytest.mark.parametrize("text", [
    "Hier, j'ai travaillé jusqu'à minuit.",
    "Hier, je suis fatigué.",           # a state: the imperfect would do as well
    "Aujourd'hui, je travaille.",
])
def test_past_markers_left_alone(text):
    assert found(text, "past_after_marker") == []


@pytest.mark.parametrize("text, expected", [
    ("Demain, nous avons visité le musée.", [("avons visité", "visitons")]),
    ("Demain, j'ai pris le train.", [("j'ai pris", "je prends")]),
])
def test_demain_does_not_take_the_passe_compose(text, expected):
    assert found(text, "present_after_future_marker") == expected


@pytest.mark.parametrize("text, expected", [
    ("Si nous avions une voiture, nous partirons en Bretagne.", [("partirons", "partirions")]),
    ("S'il faisait beau, on ira à la plage.", [("ira", "irait")]),
])
def test_si_with_the_imperfect_calls_for_the_conditional(text, expected):
    assert found(text, "conditional_after_si") == expected


def test_si_with_the_present_keeps_the_future():
    assert found("Si tu viens, nous irons au parc.", "conditional_after_si") == []


def test_an_elided_subject_is_part_of_the_si_correction():
    assert found("Si j'aurais su, je serais venu.", "tense_after_si") == [("j'aurais", "j'avais")]


@pytest.mark.parametrize("text, expected", [
    ("Je crois que tu aies raison.", [("aies", "as")]),
    ("Nous espérons qu'elle puisse venir.", [("puisse", "peut")]),
])
def test_an_affirmed_opinion_takes_the_indicative(text, expected):
    assert found(text, "indicative_after_opinion") == expected


@pytest.mark.parametrize("text", ["Je ne crois pas que tu aies raison.", "Je crois que tu as raison."])
def test_opinions_left_alone(text):
    assert found(text, "indicative_after_opinion") == []


def test_a_feeling_calls_for_the_subjunctive():
    assert found("Je suis heureuse que vous êtes ici.", "subjunctive_after_conjunction") == [("êtes", "soyez")]


@pytest.mark.parametrize("text, expected", [
    ("Ma grand-mère a préparée un gâteau.", [("préparée", "préparé")]),
    ("Les enfants ont regardés la télé.", [("regardés", "regardé")]),
])
def test_with_avoir_the_participle_ignores_the_subject(text, expected):
    assert found(text, "participle_with_avoir") == expected


@pytest.mark.parametrize("text", [
    "Les fleurs qu'il a achetées sont belles.",  # the object comes first
    "Je les ai invitées.",
    "Elle m'a réveillée.",
    "Elle a été contente.",
])
def test_agreement_with_a_preceding_object_left_alone(text):
    assert found(text, "participle_with_avoir") == []


def test_a_pronominal_verb_with_its_object_after_does_not_agree():
    assert found("Elles se sont brossées les dents.", "pronominal_with_object") == [("brossées", "brossé")]


@pytest.mark.parametrize("text, expected", [
    ("Nous avons boire un café.", [("boire", "bu")]),
    ("Tu as lire ce roman ?", [("lire", "lu")]),
])
def test_avoir_takes_a_participle_not_an_infinitive(text, expected):
    assert found(text, "participle_after_auxiliary") == expected


@pytest.mark.parametrize("text", [
    "Hier, je travaille jusqu'à minuit.", "Si nous avions une voiture, nous partirons en Bretagne.",
    "Ma grand-mère a préparée un gâteau.", "Nous avons boire un café.", "Je crois que tu aies raison.",
])
def test_the_corrected_text_raises_nothing(text):
    assert check_grammar(check_grammar(text).corrected_text).errors == []


@pytest.mark.parametrize("text, expected", [
    ("Mon frère est vendu sa moto.", [("est", "a")]),
    ("Je suis acheté une robe.", [("Je suis", "J'ai")]),
])
def test_a_direct_object_calls_for_avoir(text, expected):
    assert found(text, "verb_takes_avoir") == expected


@pytest.mark.parametrize("text", [
    "Il est né le 3 mai.", "Elle est partie la semaine dernière.", "Il est appelé le roi.",
    "Elle s'est acheté une robe.", "Le gâteau est mangé par le chien.",
])
def test_etre_left_alone(text):
    assert found(text, "verb_takes_avoir") == []


@pytest.mark.parametrize("text, expected", [
    ("Elles ont descendu à la cave.", [("ont", "sont")]),
    ("Ma voisine a tombée dans l'escalier.", [("a", "est")]),
])
def test_a_verb_of_motion_without_object_takes_etre(text, expected):
    assert found(text, "verb_takes_etre") == expected


@pytest.mark.parametrize("text", ["Elles ont descendu les poubelles.", "Nous avons passé trois jours à Nice."])
def test_a_verb_of_motion_with_its_object_keeps_avoir(text):
    assert found(text, "verb_takes_etre") == []


@pytest.mark.parametrize("text, expected", [
    ("Vous avez chantez très bien.", [("chantez", "chanté")]),
    ("Elle a voulait partir.", [("voulait", "voulu")]),
    ("Nous sommes arriver en retard.", [("arriver", "arrivés")]),
])
def test_a_conjugated_form_or_an_infinitive_after_the_auxiliary_becomes_the_participle(text, expected):
    assert found(text, "participle_after_auxiliary") == expected


@pytest.mark.parametrize("text", [
    "Tout ce qu'il a vaut une fortune.",   # "a" is the verb of the relative clause
    "Nous avons cours demain.",             # "cours" is a noun here
    "Il a un aller simple.",
])
def test_words_after_avoir_that_are_not_a_compound_tense_left_alone(text):
    assert found(text, "participle_after_auxiliary") == []


@pytest.mark.parametrize("text, expected", [
    ("Ma mère et moi prépare le dîner.", [("prépare", "préparons")]),
    ("Ton père et toi vient ce soir ?", [("vient", "venez")]),
    ("La pluie et le vent arrive.", [("arrive", "arrivent")]),
])
def test_two_subjects_joined_by_et_make_a_plural(text, expected):
    assert found(text, "verb_after_noun") == expected


@pytest.mark.parametrize("text", ["Mon frère et moi allons bien.", "Je lis un livre et Paul regarde la télé."])
def test_coordinations_that_agree_left_alone(text):
    assert found(text, "verb_after_noun") == []


@pytest.mark.parametrize("text, expected", [
    ("Elle s'est levé à sept heures.", [("levé", "levée")]),
    ("Nous nous sommes promené au parc.", [("promené", "promenés")]),
    ("Elles se sont rencontré à Paris.", [("rencontré", "rencontrées")]),
    ("Ma mère s'est couché tard.", [("couché", "couchée")]),
    ("La maison a été construit en 1900.", [("construit", "construite")]),
    ("Elles ont été invité à la fête.", [("invité", "invitées")]),
])
def test_pronominal_and_passive_participles_agree_with_the_subject(text, expected):
    assert found(text, "participle_agreement") == expected


@pytest.mark.parametrize("text", [
    "Elle s'est levée tôt.", "Elle s'est lavé les mains.", "Ils se sont parlé hier.", "Ils se sont téléphoné.",
    "Elle s'est demandé pourquoi.", "Ils se sont rendu compte du problème.", "Elle s'est fait couper les cheveux.",
    "Elle a été malade.", "Il a été décidé de partir.", "Je me suis levée tôt.",
])
def test_pronominal_and_passive_participles_left_alone(text):
    assert found(text, "participle_agreement") == []


def test_faire_mal_is_a_phrase_not_an_adverb_to_move():
    assert found("Elle s'est fait mal au genou.", "adverb_before_participle") == []
    assert found("J'ai lu déjà ce livre.", "adverb_before_participle") == [("lu déjà", "déjà lu")]


def test_si_with_a_future_mistaken_for_the_present_keeps_the_future_in_the_main_clause():
    # "si tu viens, on ira": only "si" + imperfect calls for a conditional.
    assert found("Si tu viendras, on ira au parc.", "tense_after_si") == [("viendras", "viens")]
    assert found("Si tu viendras, on ira au parc.", "conditional_after_si") == []
    assert found("Si j'aurais le temps, je voyagerai.", "conditional_after_si") == [("voyagerai", "voyagerais")]


@pytest.mark.parametrize("text, expected", [
    ("La semaine prochaine, je suis parti en vacances.", [("suis parti", "pars")]),
    ("Lundi prochain, j'ai fini le projet.", [("j'ai fini", "je finis")]),
])
def test_a_future_marker_phrase_takes_a_present_or_future(text, expected):
    assert found(text, "present_after_future_marker")[:1] == expected


@pytest.mark.parametrize("text, expected", [
    ("Il y a deux ans, je vais en Espagne.", [("je vais", "je suis allé")]),
    ("Samedi dernier, nous regardons un film.", [("nous regardons", "nous avons regardé")]),
])
def test_a_past_marker_phrase_takes_a_past(text, expected):
    assert found(text, "past_after_marker") == expected


@pytest.mark.parametrize("text, expected", [
    ("J'ai habité ici depuis trois ans.", [("J'ai habité", "J'habite")]),
    ("Nous avons travaillé ensemble depuis 2019.", [("avons travaillé", "travaillons")]),
    ("J'ai été malade depuis lundi.", [("J'ai été", "Je suis")]),
])
def test_what_still_goes_on_since_depuis_is_in_the_present(text, expected):
    assert found(text, "present_with_depuis") == expected


@pytest.mark.parametrize("text", [
    "Je n'ai pas mangé depuis hier.", "J'ai fini depuis une heure.", "J'habite ici depuis trois ans.",
    "La semaine dernière, je suis allé au cinéma.", "Il y a deux ans, je suis allé en Espagne.",
    "La semaine prochaine, je vais à Paris.",
])
def test_time_markers_left_alone(text):
    keys = ("present_with_depuis", "past_after_marker", "present_after_future_marker")
    assert [found(text, key) for key in keys] == [[], [], []]


@pytest.mark.parametrize("text, expected", [
    ("Nous sommes fini le travail.", [("sommes", "avons")]),
    ("Je suis monté les valises.", [("Je suis", "J'ai")]),
    ("Il est sorti le chien.", [("est", "a")]),
])
def test_etre_with_a_direct_object_is_avoir_for_nous_and_for_verbs_of_both_auxiliaries(text, expected):
    assert found(text, "verb_takes_avoir") == expected


@pytest.mark.parametrize("text", ["Je suis passé chez toi.", "Il est sorti le soir.", "Je suis monté dans le train.",
                                  "Nous nous sommes lavé les mains.", "Je suis rentré le week-end."])
def test_etre_before_no_direct_object_left_alone(text):
    assert found(text, "verb_takes_avoir") == []

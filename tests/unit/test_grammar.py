"""French grammar feedback: behaviour on learner errors and silence on correct French."""

import time

import pytest

from domain.language import GrammarError, GrammarResult, check_grammar, warm_up
from domain.language.grammar import CATEGORIES, agreement_fix, apply_corrections, pluralize


def only_error(text: str) -> GrammarError:
    result = check_grammar(text)
    assert len(result.errors) == 1, result.to_dict()
    return result.errors[0]


def flagged(text: str, error: GrammarError) -> str:
    return text[error.start:error.end]


# --- the contract example --------------------------------------------------------------

def test_reference_sentence_has_one_number_error_on_amie():
    text = "Je suis allé au marché hier avec mes amie."
    result = check_grammar(text)

    assert len(result.errors) == 1
    error = result.errors[0]
    assert flagged(text, error) == "amie"
    assert error.category == "number_agreement"
    assert error.suggestions[0] == "amies"
    assert error.message
    assert result.corrected_text == "Je suis allé au marché hier avec mes amies."


def test_result_serialises_to_the_documented_shape():
    result = check_grammar("Je suis allé au marché hier avec mes amie.")
    data = result.to_dict()

    assert set(data) == {"errors", "corrected_text"}
    assert data["errors"] == [{
        "start": 37, "end": 41, "category": "number_agreement",
        "message": result.errors[0].message, "suggestions": ["amies"],
    }]


# --- agreement inside the noun phrase --------------------------------------------------

@pytest.mark.parametrize("text, wrong, category, fix", [
    ("la chat dort", "la", "gender_agreement", "le"),
    ("Le voiture est rapide.", "Le", "gender_agreement", "La"),
    ("Ma père est médecin.", "Ma", "gender_agreement", "Mon"),
    ("Un belle maison.", "Un", "gender_agreement", "Une"),
    ("J'habite dans une grand maison.", "grand", "gender_agreement", "grande"),
    ("Elle porte une robe blanc.", "blanc", "gender_agreement", "blanche"),
    ("J'ai trois sœur.", "sœur", "number_agreement", "sœurs"),
    ("Les maison sont belles.", "maison", "number_agreement", "maisons"),
    ("Le livres sont sur la table.", "Le", "number_agreement", "Les"),
    ("Ils aiment les chats noir.", "noir", "number_agreement", "noirs"),
])
def test_noun_phrase_agreement(text, wrong, category, fix):
    error = only_error(text)
    assert (flagged(text, error), error.category, error.suggestions[0]) == (wrong, category, fix)


def test_la_chat_is_corrected_to_le_chat():
    assert check_grammar("la chat dort").corrected_text == "le chat dort"


def test_une_grand_maison_is_corrected_to_une_grande_maison():
    assert check_grammar("une grand maison").corrected_text == "une grande maison"


def test_predicative_adjective_agrees_with_the_subject():
    text = "Ma maison est petit."
    error = only_error(text)
    assert (flagged(text, error), error.suggestions[0]) == ("petit", "petite")


def test_participle_after_etre_agrees_with_the_subject():
    text = "Elles sont arrivé hier."
    error = only_error(text)
    assert (flagged(text, error), error.category, error.suggestions[0]) == \
        ("arrivé", "past_participle", "arrivées")


def test_a_participle_in_s_is_both_singular_and_plural():
    # "pris" is the masculine singular and plural alike (it used to crash the analysis).
    assert check_grammar("Je suis pris par le travail.").errors == []
    text = "J'suis pris des photos du musée."  # a direct object: the auxiliary is the error
    assert [(flagged(text, e), e.suggestions[0]) for e in check_grammar(text).errors] == [("suis", "ai")]


def test_a_participle_in_s_agrees_in_gender():
    text = "Elles sont pris au piège."
    error = only_error(text)
    assert (flagged(text, error), error.suggestions[0]) == ("pris", "prises")


# --- subject-verb agreement ------------------------------------------------------------

@pytest.mark.parametrize("text, wrong, fix", [
    ("je vont au parc", "vont", "vais"),
    ("nous mange ensemble", "mange", "mangeons"),
    ("ils mange des pommes", "mange", "mangent"),
    ("Tu peut venir ?", "peut", "peux"),
    ("Il vont à l'école.", "vont", "va"),
    ("Elle a mis la table pendant que je cuisinait.", "cuisinait", "cuisinais"),
    ("Qu'est-ce que vous faisez ?", "faisez", "faites"),
    ("Mes parents habite à Lyon.", "habite", "habitent"),
    ("Le garçon mangent une pomme.", "mangent", "mange"),
    ("Les filles qui chante sont mes sœurs.", "chante", "chantent"),
])
def test_subject_verb_agreement(text, wrong, fix):
    error = only_error(text)
    assert (flagged(text, error), error.category, error.suggestions[0]) == \
        (wrong, "subject_verb", fix)


def test_present_tense_conjugation_of_irregular_and_regular_verbs():
    # agreement_fix works on spaCy tokens; conjugation tables are checked end to end here.
    corrected = [check_grammar(f"{subject} {verb} bien.").corrected_text for subject, verb in [
        ("Je", "vont"), ("Nous", "finit"), ("Vous", "prend"), ("Ils", "doit"), ("Tu", "sait"),
    ]]
    assert corrected == ["Je vais bien.", "Nous finissons bien.", "Vous prenez bien.",
                         "Ils doivent bien.", "Tu sais bien."]
    assert callable(agreement_fix)


# --- other kinds of error ----------------------------------------------------------------

@pytest.mark.parametrize("text, wrong, category, fix", [
    ("Je ai faim.", "Je ai", "contraction_elision", "J'ai"),
    ("Je pense que il vient.", "que il", "contraction_elision", "qu'il"),
    ("Je vais à le supermarché.", "à le", "contraction_elision", "au"),
    ("J'ai tombé dans la rue.", "J'ai", "auxiliary", "Je suis"),
    ("Je m'ai couché tard.", "m'ai", "auxiliary", "me suis"),
    ("Tu as manger ?", "manger", "past_participle", "mangé"),
    ("Il a prendu mon stylo.", "prendu", "past_participle", "pris"),
    ("Il faut que tu viens.", "viens", "tense_mood", "viennes"),
    ("Si j'aurais de l'argent, je partirais.", "j'aurais", "tense_mood", "j'avais"),
    ("Je ne vois pas rien.", "pas rien", "negation", "rien"),
    ("Je n'ai pas des frères.", "des", "negation", "de"),
    ("Je vais en Londres.", "en", "preposition", "à"),
    ("Je veux aller avec tu.", "tu", "pronoun", "toi"),
    ("Je le ne comprends pas.", "le ne", "word_order", "ne le"),
    ("C'est vraiment dificile.", "dificile", "spelling", "difficile"),
    ("Je vais a la piscine.", "a", "spelling", "à"),
])
def test_other_error_kinds(text, wrong, category, fix):
    error = only_error(text)
    assert (flagged(text, error), error.category, error.suggestions[0]) == (wrong, category, fix)


def test_every_category_reported_is_a_documented_one():
    texts = ["Mon voiture est vieux.", "Je ai vu les enfant qui joue a le parc.",
             "Nous avons arrivés en Berlin.", "Ca va tres bien."]
    categories = {e.category for t in texts for e in check_grammar(t).errors}
    assert categories and categories <= set(CATEGORIES)


# --- no false alarms -------------------------------------------------------------------

CORRECT_SENTENCES = [
    "Je n'aime pas les tomates, mais j'adore les carottes.",
    "Mon amie Sofia travaille dans un hôpital.",
    "Mon vieil ami Pierre habite aux États-Unis.",
    "J'ai vingt et un ans et je suis étudiant.",
    "Les enfants calmes jouent dehors.",
    "Ma sœur court tous les jours dans le parc.",
    "Le livre a une belle couverture.",
    "Je la vois souvent et je lui téléphone le soir.",
    "Elle s'est cassé la jambe au ski.",
    "Ce ne sont pas des pommes, ce sont des poires !",
    "Ce n'est pas rien, tu sais.",
    "Je ne sais pas si tu viendras demain.",
    "Je m'en vais.",
    "La femme qui nous aide est très gentille.",
    "Il joue du piano et sa sœur joue au tennis.",
    "J'ai acheté des chaussures marron pour l'hiver.",
    "Le héros du film est courageux.",
    "La plupart des gens aiment les vacances.",
    "Elle est professeur de français dans un lycée.",
    "Salut, Emma ! Ça va ?",
    "Donne-le-moi, s'il te plaît.",
    "Mes grands-parents vivent à la campagne.",
    "Il fait beau aujourd'hui, on mange dehors ?",
    "Je sais pas encore, je te dis ça ce soir.",
]


@pytest.mark.parametrize("text", CORRECT_SENTENCES)
def test_correct_french_gets_no_feedback(text):
    result = check_grammar(text)
    assert result.errors == [], result.to_dict()
    assert result.corrected_text == text


def test_typographic_apostrophe_keeps_offsets():
    text = "Je m\u2019appelle Paul et je ai faim."
    error = only_error(text)
    assert flagged(text, error) == "je ai"


# --- other languages, edge cases, helpers ------------------------------------------------

@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_other_languages_get_no_errors(language):
    text = "la chat dort avec mes amie"
    assert check_grammar(text, language=language) == GrammarResult([], text)


def test_language_tag_with_region_is_french():
    assert check_grammar("la chat dort", language="fr-FR").errors


@pytest.mark.parametrize("text", ["", "   ", "?!", "123"])
def test_empty_or_symbol_only_text(text):
    assert check_grammar(text).errors == []


def test_apply_corrections_works_right_to_left():
    text = "la chat et mes amie"
    errors = [GrammarError(0, 2, "gender_agreement", "m", ["le"]),
              GrammarError(15, 19, "number_agreement", "m", ["amies"])]
    assert apply_corrections(text, errors) == "le chat et mes amies"


@pytest.mark.parametrize("singular, plural", [
    ("ami", "amis"), ("journal", "journaux"), ("gâteau", "gâteaux"), ("bras", "bras"),
    ("œil", "yeux"), ("jeu", "jeux"),
])
def test_pluralize(singular, plural):
    assert pluralize(singular) == plural


def test_grammar_error_to_dict_copies_suggestions():
    error = GrammarError(1, 2, "spelling", "msg", ["x"])
    data = error.to_dict()
    data["suggestions"].append("y")
    assert error.suggestions == ["x"]


def test_check_is_fast_after_warm_up():
    warm_up()
    text = "Hier soir, nous avons mangé dans un petit restaurant près de la gare."
    check_grammar(text)
    started = time.perf_counter()
    for _ in range(20):
        check_grammar(text)
    per_call = (time.perf_counter() - started) / 20
    assert per_call < 0.05  # ~10 ms expected; generous bound for slow CI machines


def test_only_french_is_analysed():
    from domain.language import analyse_grammar

    assert analyse_grammar("Je suis allé au marché avec mes amie.", "fr")["errors"]
    assert analyse_grammar("Fui al mercado con mis amigo.", "es") == {"errors": [], "corrected_text": None}

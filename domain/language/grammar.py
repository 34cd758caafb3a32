"""French grammar feedback for learners' chat messages.

One spaCy call per message gives tokens, part-of-speech tags and lemmas; everything that
decides whether something is wrong is ours: small hand-written rules backed by a compact
lexicon (noun genders, adjective and verb inflection) and pyspellchecker's French word list.

spaCy's small model is unreliable exactly where learners make mistakes (it copies the
plural of "mes" onto "amie", tags "joue" as an adjective...), so the rules look at the words
themselves and use the tagger only to break ties.  Precision comes first: every rule fires
only in contexts where the correct-French reading is ruled out, and says nothing otherwise.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from domain.language import messages

if TYPE_CHECKING:  # spaCy itself is imported on first use, not with this module
    from spacy.language import Language
    from spacy.tokens import Doc, Token

MODEL_NAME = "fr_core_news_sm"
# Word-level analyses are memoised; the bound keeps a long-lived worker's memory flat.
_CACHE_SIZE = 50_000

CATEGORIES = (
    "gender_agreement", "number_agreement", "subject_verb", "past_participle", "auxiliary",
    "tense_mood", "preposition", "contraction_elision", "spelling", "negation", "pronoun",
    "word_order",
)


# --------------------------------------------------------------------------------------
# Public result types
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GrammarError:
    start: int
    end: int
    category: str
    message: str  # in English; `to_dict(native_language)` gives the learner's language
    suggestions: list[str]
    message_key: str | None = None  # None for a message written elsewhere (the model's)
    message_params: tuple[tuple[str, str], ...] = ()

    def to_dict(self, native_language: str | None = None) -> dict:
        message = self.message if self.message_key is None else \
            messages.render(self.message_key, dict(self.message_params), native_language)
        return {
            "start": self.start,
            "end": self.end,
            "category": self.category,
            "message": message,
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class GrammarResult:
    errors: list[GrammarError]
    corrected_text: str

    def to_dict(self) -> dict:
        return {"errors": [e.to_dict() for e in self.errors], "corrected_text": self.corrected_text}


# --------------------------------------------------------------------------------------
# Lazily loaded resources (never at import time: the web process must stay light)
# --------------------------------------------------------------------------------------

# Hyphenated words stay one token ("grands-parents", "week-end") unless the last part is
# a clitic of an inversion or imperative ("a-t-il", "est-ce", "appelle-moi").
_COMPOUND_WORD = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)+$")
_HYPHEN_CLITICS = {
    "t", "je", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "le", "la", "les",
    "lui", "leur", "moi", "toi", "y", "en", "ce", "là", "ci", "eux", "m",
}


@functools.cache
def _nlp() -> Language:
    import spacy

    nlp = spacy.load(MODEL_NAME, exclude=["ner"])
    default_match = nlp.tokenizer.token_match

    def token_match(text: str):
        match = _COMPOUND_WORD.match(text)
        if match and text.rsplit("-", 1)[1].lower() not in _HYPHEN_CLITICS:
            return match
        return default_match(text) if default_match else None

    nlp.tokenizer.token_match = token_match
    return nlp


@functools.cache
def _dictionary():
    from spellchecker import SpellChecker

    return SpellChecker(language="fr", distance=1)


def _is_word(word: str) -> bool:
    """True when the French word list knows `word` (lower case expected)."""
    return word.replace("œ", "oe").replace("æ", "ae") in _dictionary()


def warm_up() -> None:
    """Load the spaCy model, the word list and the lexicon tables now."""
    _nlp()("Bonjour, je vais bien.")
    _dictionary()
    _noun_forms()
    _verb_form_index()


# --------------------------------------------------------------------------------------
# Small helpers on text
# --------------------------------------------------------------------------------------

VOWELS = set("aeiouyàâäéèêëîïôöûüùœæ")
_H_MUET_PREFIXES = (
    "habit", "habill", "herbe", "heure", "heureu", "hier", "histoire", "hiver", "homme",
    "honnête", "honneur", "hôpital", "hospital", "horaire", "horizon", "horreur", "horrible",
    "hôte", "hôtel", "huile", "humain", "humeur", "humid", "humour", "hygiène", "hypoth",
    "hésit", "hérit", "héroïne", "harmonie", "hebdo", "hippopotame", "humble",
)


def _starts_with_vowel_sound(word: str) -> bool:
    low = word.lower()
    if not low:
        return False
    if low[0] == "h":
        return low.startswith(_H_MUET_PREFIXES)
    return low[0] in VOWELS and low[0] != "y"


def _match_case(model: str, replacement: str) -> str:
    """Give `replacement` the capital initial of `model`."""
    if model[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _words(text: str) -> list[str]:
    return text.split()


def _lower(token: Token) -> str:
    return token.text.lower()


def _next(token: Token, offset: int = 1) -> Token | None:
    i = token.i + offset
    return token.doc[i] if 0 <= i < len(token.doc) else None


def _prev(token: Token, offset: int = 1) -> Token | None:
    return _next(token, -offset)


def _is_clause_start(token: Token) -> bool:
    """Nothing before `token` in its clause (start, punctuation or a linking word)."""
    before = _prev(token)
    return before is None or before.is_punct or _lower(before) in CLAUSE_LINKS


CLAUSE_LINKS = set(_words(
    "et mais ou donc car puis alors que qu' quand lorsque lorsqu' si s' comme parce "
    "puisque puisqu' où dont ensuite enfin"))


# --------------------------------------------------------------------------------------
# Lexicon: nouns
# --------------------------------------------------------------------------------------

# Common nouns by gender (singular).  "mf" nouns take either gender (élève, livre...).
_MASCULINE_NOUNS = _words("""
    ami an anniversaire appartement après-midi argent arbre article avion avocat bain ballon
    bateau bâtiment bébé beurre billet biscuit bol bonbon bonheur bord bras bruit bureau bus
    cadeau café cahier camion canapé centre chapeau chat château chemin chien chiffre
    chocolat choix cinéma citron client climat cœur coin collège concert conseil copain corps
    costume côté cou couloir cours cousin couteau croissant cuisinier déchet déjeuner dessert
    dessin devoir dictionnaire dîner docteur doigt dos droit échec effort emploi endroit
    environnement escalier été étudiant euro examen exemple exercice facteur fauteuil film
    fils fleuve football four frère frigo fromage fruit garage garçon gâteau genou goût
    gouvernement grand-père gymnase haricot hiver homme hôpital hôtel immeuble instrument
    jambon jardin jean jeu jouet jour journal jus lac lait lapin légume lieu lit livre logement
    loyer lundi mardi mercredi jeudi vendredi samedi dimanche lycée magasin magazine mail
    manteau marché mari match matin médecin melon message métier métro midi minuit miroir
    moment monde monsieur mot musée nez noël nom nombre numéro nuage océan œil œuf oignon
    oiseau oncle ordinateur orchestre pain pantalon papier parapluie parc passeport patron
    pays père petit-déjeuner piano pied placard plafond plaisir plat poème poisson poivre
    policier pont portable poste poulet prénom président prix problème professeur programme
    projet pull quartier repas restaurant rêve riz roi roman sac salaire salon sandwich sang
    secret sel siècle ski soir soleil sol souvenir sport stade stylo succès sucre sujet
    supermarché système tableau taxi téléphone temps tennis terrain texte thé théâtre thème
    ticket toit train travail vélo vendeur ventre verre vêtement village vin visage voisin
    voyage week-end yaourt parent grands-parents cheval animal lion singe serpent mouton
    cochon éléphant insecte champignon chemisier short maillot gant foulard bijou vocabulaire
    dialogue français anglais allemand espagnol italien chinois japonais portugais russe
    arabe début milieu bout fond nord sud ouest soutien chômage rendez-vous avis besoin
    voyageur chanteur acteur écrivain ingénieur serveur boulanger boucher pompier
    championnat championnat printemps automne mois quart état ministre peuple habitant
    accident silence hasard horaire ciel vent orage brouillard froid matériel outil
    gâteau raisin abricot ananas steak biscuit goûter chauffeur copain colis cadeau
""")

_FEMININE_NOUNS = _words("""
    amie année assiette baguette banane banque bague bibliothèque bière boisson boîte
    bouche boucherie boulangerie bouteille campagne cantine carotte carte ceinture cerise
    chaise chaleur chambre chance chanson chaussette chaussure chemise chose classe clé
    colère confiture copine couleur cour course cousine cravate crème crêpe cuillère cuisine
    culture danse date dent douleur eau école économie église entreprise entrée épaule
    épicerie équipe étoile famille femme fenêtre fête feuille fièvre fille fin fleur fois
    forêt forme fourchette fraise frite gare glace grand-mère grippe guerre heure histoire
    idée île jambe journée jupe langue leçon lettre liberté librairie lune lunettes main
    mairie maison maladie manière matière mer mère météo minute montagne montre moitié
    musique nature neige nourriture nuit odeur oreille orange page paix partie pâte peau
    peur pharmacie phrase photo piscine pizza place plage planète plante pluie plupart
    poire politique pomme porte poule promenade question radio randonnée réponse réunion
    robe route rue salade salle santé semaine série sœur soif soirée soupe sortie table
    tante tarte tasse télé télévision température tête tomate tortue valise vérité veste
    viande vidéo vie ville visite voisine voiture voix vache chèvre abeille mouche
    araignée baleine girafe souris faim envie joie tristesse raison façon affaire note
    leçon dictée grammaire conversation discussion présentation émission chaîne publicité
    information nouvelle sortie balade natation peinture lecture écriture religion loi
    police armée élection solution situation relation attention occasion décision
    tradition profession carrière retraite formation facture dette monnaie pièce taille
    cave terrasse région rivière université société usine dame madame personne cuisine
    gorge jambe poitrine barbe moustache lampe image voiture plage nage cage rage
    entrevue tempête chaleur saison mode mémoire
""")

# Both genders exist with the same spelling (a person of either sex, or two homonyms).
_EITHER_GENDER_NOUNS = set(_words("""
    enfant élève collègue dentiste journaliste artiste touriste secrétaire camarade adulte
    pianiste membre propriétaire locataire bénévole concierge guide juge libraire
    photographe pharmacien pharmacienne après-midi livre tour poste mode manche voile vase
    mémoire critique moule somme physique page mort vapeur sosie gens parent
    responsable chef ministre professeur médecin docteur
"""))

# Nouns used only in the plural and nouns whose singular already ends in -s/-x/-z.
_PLURAL_ONLY_NOUNS = {"vacances": "f", "gens": "m", "lunettes": "f", "grands-parents": "m",
                      "mathématiques": "f", "maths": "f", "ciseaux": "m", "fiançailles": "f"}
_IRREGULAR_PLURALS = {
    "œil": "yeux", "ciel": "cieux", "travail": "travaux", "monsieur": "messieurs",
    "madame": "mesdames", "mademoiselle": "mesdemoiselles", "bijou": "bijoux",
    "caillou": "cailloux", "chou": "choux", "genou": "genoux", "hibou": "hiboux",
    "jouet": "jouets", "pneu": "pneus", "bleu": "bleus", "festival": "festivals",
    "carnaval": "carnavals", "bal": "bals", "détail": "détails",
}


def pluralize(noun: str) -> str:
    """Regular French plural of a singular noun or adjective."""
    if noun in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z")):
        return noun
    if noun.endswith("al"):
        return noun[:-2] + "aux"
    if noun.endswith(("eau", "au", "eu")):
        return noun + "x"
    return noun + "s"


@dataclass(frozen=True)
class NounInfo:
    gender: str | None  # "m", "f" or None when either/unknown
    number: str | None  # "s", "p" or None when the form is the same in both numbers
    singular: str


@functools.cache
def _noun_forms() -> dict[str, NounInfo]:
    """Every singular and plural form of the lexicon's nouns."""
    forms: dict[str, NounInfo] = {}
    for gender, nouns in (("m", _MASCULINE_NOUNS), ("f", _FEMININE_NOUNS)):
        for noun in nouns:
            info_gender = None if noun in _EITHER_GENDER_NOUNS else gender
            plural = pluralize(noun)
            same_form = plural == noun
            forms[noun] = NounInfo(info_gender, None if same_form else "s", noun)
            if not same_form:
                forms.setdefault(plural, NounInfo(info_gender, "p", noun))
    for noun in _EITHER_GENDER_NOUNS:
        forms.setdefault(noun, NounInfo(None, "s", noun))
        forms.setdefault(pluralize(noun), NounInfo(None, "p", noun))
    for noun, gender in _PLURAL_ONLY_NOUNS.items():
        forms[noun] = NounInfo(None if noun == "gens" else gender, "p", noun)
    return forms


# Endings that give a noun's gender with few exceptions (used only for nouns missing above).
_FEMININE_ENDINGS = ("tion", "sion", "ité", "ette", "ance", "ence", "ure", "aison", "esse",
                     "euse", "ude", "ade", "ière", "ée", "ie", "ise", "ine")
_MASCULINE_ENDINGS = ("ment", "age", "isme", "eau", "oir", "ier", "eil", "ail", "et", "at",
                      "ème", "phone", "scope")
_ENDING_EXCEPTIONS = set(_words("""
    silence musée lycée trophée apogée athée mausolée stade grade jade génie incendie
    parapluie sosie cimetière derrière squelette prélude mercure murmure cyanure comité
    page plage image cage nage rage eau peau crème jument forêt paie vie magazine
    domaine marine cuisine machine usine
"""))
_INVARIABLE_NOUNS = set(_words("""
    bras bus cas choix corps cours dos fils fois gaz jus mois nez noix pays poids prix
    repas riz souris tapis temps voix avis bois colis croix discours héros os parcours
    progrès propos succès tennis virus français anglais chinois japonais portugais
    ananas concours palais quartz radis relais remords secours sens tas univers
"""))


def _stem_variants(word: str) -> Iterator[str]:
    """The word and its spelling with "oe" written as the ligature "œ"."""
    yield word
    if "oe" in word:
        yield word.replace("oe", "œ")


def noun_info(token: Token) -> NounInfo | None:
    """Gender and number of a noun, from the lexicon or from reliable endings."""
    low = _lower(token)
    forms = _noun_forms()
    for variant in _stem_variants(low):
        if variant in forms:
            return forms[variant]
    if token.pos_ != "NOUN" or not low.isalpha():
        return None
    singular, number = _singular_of_unknown_noun(token)
    return NounInfo(_gender_from_ending(singular), number, singular)


def _singular_of_unknown_noun(token: Token) -> tuple[str, str | None]:
    low = _lower(token)
    if low in _INVARIABLE_NOUNS:
        return low, None
    if not low.endswith(("s", "x", "z")):
        return low, "s"
    lemma = token.lemma_.lower()
    if lemma != low and pluralize(lemma) == low and _is_word(lemma):
        return lemma, "p"
    return low, None


def _gender_from_ending(singular: str) -> str | None:
    if singular in _ENDING_EXCEPTIONS:
        return None
    if singular.endswith(_FEMININE_ENDINGS):
        return "f"
    if singular.endswith(_MASCULINE_ENDINGS):
        return "m"
    return None


# --------------------------------------------------------------------------------------
# Lexicon: determiners and numbers
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Determiner:
    gender: str | None
    number: str


_DETERMINERS = {
    "le": Determiner("m", "s"), "la": Determiner("f", "s"), "les": Determiner(None, "p"),
    "un": Determiner("m", "s"), "une": Determiner("f", "s"), "des": Determiner(None, "p"),
    "du": Determiner("m", "s"), "au": Determiner("m", "s"), "aux": Determiner(None, "p"),
    "mon": Determiner("m", "s"), "ma": Determiner("f", "s"), "mes": Determiner(None, "p"),
    "ton": Determiner("m", "s"), "ta": Determiner("f", "s"), "tes": Determiner(None, "p"),
    "son": Determiner("m", "s"), "sa": Determiner("f", "s"), "ses": Determiner(None, "p"),
    "notre": Determiner(None, "s"), "votre": Determiner(None, "s"),
    "leur": Determiner(None, "s"), "nos": Determiner(None, "p"),
    "vos": Determiner(None, "p"), "leurs": Determiner(None, "p"),
    "ce": Determiner("m", "s"), "cet": Determiner("m", "s"), "cette": Determiner("f", "s"),
    "ces": Determiner(None, "p"), "chaque": Determiner(None, "s"),
    "plusieurs": Determiner(None, "p"), "quelques": Determiner(None, "p"),
    "aucun": Determiner("m", "s"), "aucune": Determiner("f", "s"),
}
# The other gender of a determiner, as (before a consonant, before a vowel).
_OTHER_GENDER = {
    "le": ("la", "l'"), "la": ("le", "l'"), "un": ("une", "une"), "une": ("un", "un"),
    "mon": ("ma", "mon"), "ma": ("mon", "mon"), "ton": ("ta", "ton"), "ta": ("ton", "ton"),
    "son": ("sa", "son"), "sa": ("son", "son"), "ce": ("cette", "cette"),
    "cet": ("cette", "cette"), "cette": ("ce", "cet"), "du": ("de la", "de l'"),
    "au": ("à la", "à l'"), "aucun": ("aucune", "aucune"), "aucune": ("aucun", "aucun"),
}
_PLURAL_DETERMINER = {
    "le": "les", "la": "les", "un": "des", "une": "des", "du": "des", "au": "aux",
    "mon": "mes", "ma": "mes", "ton": "tes", "ta": "tes", "son": "ses", "sa": "ses",
    "notre": "nos", "votre": "vos", "leur": "leurs", "ce": "ces", "cet": "ces",
    "cette": "ces", "chaque": "tous les",
}
_NUMBER_WORDS = set(_words("""
    deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize
    vingt vingts trente quarante cinquante soixante cent cents mille et
"""))


def _is_plural_number(word: str) -> bool:
    parts = word.lower().split("-")
    return all(p in _NUMBER_WORDS for p in parts) and parts != ["et"]


# --------------------------------------------------------------------------------------
# Lexicon: adjectives
# --------------------------------------------------------------------------------------

# (masculine singular [| form before a vowel], feminine singular, masculine plural,
#  feminine plural) for adjectives the rules below get wrong.
_IRREGULAR_ADJECTIVES = {
    "beau": ("beau|bel", "belle", "beaux", "belles"),
    "nouveau": ("nouveau|nouvel", "nouvelle", "nouveaux", "nouvelles"),
    "vieux": ("vieux|vieil", "vieille", "vieux", "vieilles"),
    "fou": ("fou|fol", "folle", "fous", "folles"),
    "mou": ("mou|mol", "molle", "mous", "molles"),
    "blanc": ("blanc", "blanche", "blancs", "blanches"),
    "franc": ("franc", "franche", "francs", "franches"),
    "sec": ("sec", "sèche", "secs", "sèches"),
    "frais": ("frais", "fraîche|fraiche", "frais", "fraîches|fraiches"),
    "long": ("long", "longue", "longs", "longues"),
    "doux": ("doux", "douce", "doux", "douces"),
    "faux": ("faux", "fausse", "faux", "fausses"),
    "roux": ("roux", "rousse", "roux", "rousses"),
    "gentil": ("gentil", "gentille", "gentils", "gentilles"),
    "gros": ("gros", "grosse", "gros", "grosses"),
    "bas": ("bas", "basse", "bas", "basses"),
    "gras": ("gras", "grasse", "gras", "grasses"),
    "épais": ("épais", "épaisse", "épais", "épaisses"),
    "public": ("public", "publique", "publics", "publiques"),
    "grec": ("grec", "grecque", "grecs", "grecques"),
    "turc": ("turc", "turque", "turcs", "turques"),
    "favori": ("favori", "favorite", "favoris", "favorites"),
    "tout": ("tout", "toute", "tous", "toutes"),
    "malin": ("malin", "maligne", "malins", "malignes"),
    "bon": ("bon", "bonne", "bons", "bonnes"),
    "nul": ("nul", "nulle", "nuls", "nulles"),
    "jaloux": ("jaloux", "jalouse", "jaloux", "jalouses"),
    "banal": ("banal", "banale", "banals", "banales"),
    "final": ("final", "finale", "finals|finaux", "finales"),
    "idéal": ("idéal", "idéale", "idéaux|idéals", "idéales"),
}
_INVARIABLE_ADJECTIVES = set(_words(
    "marron orange chic super sympa cool kaki standard ok pop bof extra"))
# Inflected endings: masculine ending -> feminine endings, most likely first.
_FEMININE_RULES = (
    ("eux", ("euse",)), ("eur", ("euse", "eure", "rice")), ("if", ("ive",)),
    ("er", ("ère",)), ("el", ("elle",)), ("eil", ("eille",)), ("ien", ("ienne",)),
    ("en", ("enne",)), ("on", ("onne",)), ("et", ("ette", "ète")), ("c", ("que", "che")),
    ("s", ("se", "sse")), ("x", ("se",)),
)
CELLS = ("ms", "fs", "mp", "fp")


@functools.lru_cache(maxsize=_CACHE_SIZE)
def adjective_forms(base: str) -> dict[str, tuple[str, ...]] | None:
    """The four cells of an adjective (each a tuple of accepted spellings, best first)."""
    if base in _INVARIABLE_ADJECTIVES:
        return {cell: (base,) for cell in CELLS}
    if base in _IRREGULAR_ADJECTIVES:
        return dict(zip(CELLS, (tuple(c.split("|")) for c in _IRREGULAR_ADJECTIVES[base])))
    feminine = _regular_feminine(base)
    if feminine is None:
        return None
    masc_plural = base if base.endswith(("s", "x")) else (
        base[:-2] + "aux" if base.endswith("al") else
        base + "x" if base.endswith("eau") else base + "s")
    return {"ms": (base,), "fs": (feminine,), "mp": (masc_plural,), "fp": (feminine + "s",)}


def _regular_feminine(base: str) -> str | None:
    if base.endswith("e"):
        return base
    for ending, feminine_endings in _FEMININE_RULES:
        if base.endswith(ending):
            for fem_ending in feminine_endings:
                candidate = base[: -len(ending)] + fem_ending
                if _is_word(candidate):
                    return candidate
            return None
    candidate = base + "e"
    return candidate if _is_word(candidate) else None


@dataclass(frozen=True)
class Adjective:
    base: str
    forms: dict[str, tuple[str, ...]]

    def cells_of(self, word: str) -> set[str]:
        return {cell for cell, spellings in self.forms.items() if word in spellings}

    def form(self, gender: str, number: str) -> str:
        return self.forms[gender + number][0]


def _adjective_bases(word: str, lemma: str) -> Iterator[str]:
    for base, cells in _IRREGULAR_ADJECTIVES.items():
        if any(word in cell.split("|") for cell in cells):
            yield base
    yield lemma
    yield word  # an -e adjective is its own base (jeune, rouge): never a false alarm


def as_adjective(token: Token) -> Adjective | None:
    """Read the token as an inflected adjective, if spaCy's lemma supports that reading."""
    word = _lower(token)
    if not word.isalpha():
        return None
    for base in _adjective_bases(word, token.lemma_.lower()):
        if not (_is_word(base) or base in _IRREGULAR_ADJECTIVES):
            continue
        forms = adjective_forms(base)
        if forms and any(word in spellings for spellings in forms.values()):
            return Adjective(base, forms)
    return None


# Adjectives that normally come before the noun ("une grande maison").
_PRENOMINAL_ADJECTIVES = set(_words("""
    grand petit bon mauvais beau joli jeune vieux nouveau gros long haut meilleur premier
    dernier deuxième troisième autre même seul vrai pauvre prochain court excellent énorme
    véritable certain double simple moindre drôle gentil cher ancien faux large immense
"""))
# Adjectives that only follow the noun (colours, nationalities, shapes).
_POSTNOMINAL_ADJECTIVES = set(_words("""
    rouge bleu vert jaune noir blanc gris rose violet marron brun beige orange français
    anglais italien espagnol allemand américain chinois japonais mexicain canadien belge
    suisse portugais russe grec marocain africain européen asiatique rond carré
    politique social économique
"""))


@functools.cache
def _prenominal_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base in _PRENOMINAL_ADJECTIVES:
        for spellings in (adjective_forms(base) or {}).values():
            for spelling in spellings:
                forms[spelling] = base
    return forms


@functools.cache
def _postnominal_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for base in _POSTNOMINAL_ADJECTIVES:
        for spellings in (adjective_forms(base) or {}).values():
            for spelling in spellings:
                forms[spelling] = base
    return forms


# --------------------------------------------------------------------------------------
# Lexicon: verbs
# --------------------------------------------------------------------------------------

PERSONS = ("1s", "2s", "3s", "1p", "2p", "3p")
TENSES = ("present", "imperfect", "future", "conditional", "subjunctive")
SUBJECT_PERSON = {"je": "1s", "j'": "1s", "tu": "2s", "il": "3s", "elle": "3s", "on": "3s",
                  "nous": "1p", "vous": "2p", "ils": "3p", "elles": "3p"}

# Present indicative of irregular verbs ("-" where the verb has no such person).
_IRREGULAR_PRESENT = {
    "être": "suis es est sommes êtes sont",
    "avoir": "ai as a avons avez ont",
    "aller": "vais vas va allons allez vont",
    "faire": "fais fais fait faisons faites font",
    "dire": "dis dis dit disons dites disent",
    "pouvoir": "peux peux peut pouvons pouvez peuvent",
    "vouloir": "veux veux veut voulons voulez veulent",
    "savoir": "sais sais sait savons savez savent",
    "devoir": "dois dois doit devons devez doivent",
    "voir": "vois vois voit voyons voyez voient",
    "croire": "crois crois croit croyons croyez croient",
    "venir": "viens viens vient venons venez viennent",
    "tenir": "tiens tiens tient tenons tenez tiennent",
    "prendre": "prends prends prend prenons prenez prennent",
    "mettre": "mets mets met mettons mettez mettent",
    "battre": "bats bats bat battons battez battent",
    "partir": "pars pars part partons partez partent",
    "sortir": "sors sors sort sortons sortez sortent",
    "dormir": "dors dors dort dormons dormez dorment",
    "sentir": "sens sens sent sentons sentez sentent",
    "mentir": "mens mens ment mentons mentez mentent",
    "servir": "sers sers sert servons servez servent",
    "lire": "lis lis lit lisons lisez lisent",
    "écrire": "écris écris écrit écrivons écrivez écrivent",
    "boire": "bois bois boit buvons buvez boivent",
    "connaître": "connais connais connaît connaissons connaissez connaissent",
    "naître": "nais nais naît naissons naissez naissent",
    "recevoir": "reçois reçois reçoit recevons recevez reçoivent",
    "vivre": "vis vis vit vivons vivez vivent",
    "suivre": "suis suis suit suivons suivez suivent",
    "courir": "cours cours court courons courez courent",
    "mourir": "meurs meurs meurt mourons mourez meurent",
    "ouvrir": "ouvre ouvres ouvre ouvrons ouvrez ouvrent",
    "offrir": "offre offres offre offrons offrez offrent",
    "souffrir": "souffre souffres souffre souffrons souffrez souffrent",
    "rire": "ris ris rit rions riez rient",
    "conduire": "conduis conduis conduit conduisons conduisez conduisent",
    "plaire": "plais plais plaît plaisons plaisez plaisent",
    "craindre": "crains crains craint craignons craignez craignent",
    "peindre": "peins peins peint peignons peignez peignent",
    "éteindre": "éteins éteins éteint éteignons éteignez éteignent",
    "falloir": "- - faut - - -",
    "pleuvoir": "- - pleut - - -",
}
_IRREGULAR_FUTURE_STEMS = {
    "être": "ser", "avoir": "aur", "aller": "ir", "faire": "fer", "pouvoir": "pourr",
    "vouloir": "voudr", "savoir": "saur", "devoir": "devr", "voir": "verr", "venir": "viendr",
    "tenir": "tiendr", "recevoir": "recevr", "courir": "courr", "mourir": "mourr",
    "falloir": "faudr", "pleuvoir": "pleuvr", "envoyer": "enverr",
}
_IRREGULAR_IMPERFECT_STEMS = {"être": "ét", "falloir": "fall", "pleuvoir": "pleuv"}
_IRREGULAR_SUBJUNCTIVE = {
    "être": "sois sois soit soyons soyez soient",
    "avoir": "aie aies ait ayons ayez aient",
    "aller": "aille ailles aille allions alliez aillent",
    "faire": "fasse fasses fasse fassions fassiez fassent",
    "pouvoir": "puisse puisses puisse puissions puissiez puissent",
    "vouloir": "veuille veuilles veuille voulions vouliez veuillent",
    "savoir": "sache saches sache sachions sachiez sachent",
    "falloir": "- - faille - - -",
    "pleuvoir": "- - pleuve - - -",
}
_PAST_PARTICIPLES = {
    "être": "été", "avoir": "eu", "aller": "allé", "faire": "fait", "dire": "dit",
    "pouvoir": "pu", "vouloir": "voulu", "savoir": "su", "devoir": "dû", "voir": "vu",
    "croire": "cru", "venir": "venu", "tenir": "tenu", "prendre": "pris", "mettre": "mis",
    "battre": "battu", "partir": "parti", "sortir": "sorti", "dormir": "dormi",
    "sentir": "senti", "mentir": "menti", "servir": "servi", "lire": "lu", "écrire": "écrit",
    "boire": "bu", "connaître": "connu", "naître": "né", "recevoir": "reçu", "vivre": "vécu",
    "suivre": "suivi", "courir": "couru", "mourir": "mort", "ouvrir": "ouvert",
    "offrir": "offert", "souffrir": "souffert", "rire": "ri", "conduire": "conduit",
    "plaire": "plu", "craindre": "craint", "peindre": "peint", "éteindre": "éteint",
    "falloir": "fallu", "pleuvoir": "plu",
}
# Verbs built on another one by a different beginning: base -> (shared start, new starts).
_VERB_FAMILIES = {
    "venir": ("v", "dev rev souv prév interv conv parv"),
    "tenir": ("t", "obt ret cont maint appart sout entret"),
    "prendre": ("pr", "appr compr repr surpr entrepr"),
    "mettre": ("m", "perm prom rem adm transm soum"),
    "partir": ("p", "rep"), "sortir": ("s", "res"), "dormir": ("d", "end"),
    "sentir": ("s", "res cons"), "voir": ("v", "rev"),
    "lire": ("l", "rel él"), "écrire": ("écr", "décr inscr"),
    "connaître": ("conn", "reconn par appar dispar"), "ouvrir": ("", "c déc rec r"),
    "conduire": ("cond", "constr détr prod trad réd introd c"), "rire": ("r", "sour"),
    "recevoir": ("re", "per dé con aper"), "plaire": ("pl", "dépl"),
    "vivre": ("v", "surv rev"), "courir": ("c", "parc acc sec"), "naître": ("n", "ren"),
    "faire": ("f", "déf ref satisf"), "battre": ("b", "déb comb"),
    "peindre": ("p", "dép"), "éteindre": ("ét", "att"),
}
# Regular -ir verbs of the "finir" type and regular -re verbs of the "vendre" type.
_FINIR_VERBS = set(_words("""
    finir choisir réussir grandir remplir réfléchir obéir punir rougir grossir maigrir
    vieillir agir bâtir applaudir atterrir avertir établir fournir guérir nourrir ralentir
    saisir salir trahir unir investir envahir garantir définir embellir jaunir pâlir
"""))
_VENDRE_VERBS = set(_words("""
    attendre entendre vendre répondre perdre descendre rendre défendre mordre tendre
    fondre pendre correspondre confondre dépendre prétendre détendre suspendre tordre
    étendre revendre
"""))
# -eler/-eter verbs that double the consonant (appelle) instead of taking a grave accent.
_DOUBLING_VERBS = set(_words("appeler rappeler jeter rejeter projeter épeler renouveler"))

Paradigm = dict  # tense -> tuple of six forms ("-" = none)


def _six(forms: str) -> tuple[str, ...]:
    return tuple(forms.split())


def _from_stem(stem: str, endings: str) -> tuple[str, ...]:
    return tuple(stem + e for e in endings.split())


_IMPERFECT_ENDINGS = "ais ais ait ions iez aient"
_FUTURE_ENDINGS = "ai as a ons ez ont"


def _derived_tenses(infinitive: str, present: tuple[str, ...], fut_stem: str) -> Paradigm:
    """Imperfect, future, conditional and subjunctive from the present and future stem."""
    imp_stem = _IRREGULAR_IMPERFECT_STEMS.get(infinitive, present[3][:-3])
    if infinitive in _IRREGULAR_SUBJUNCTIVE:
        subjunctive = _six(_IRREGULAR_SUBJUNCTIVE[infinitive])
    else:
        stem3 = present[5][:-3]
        subjunctive = (stem3 + "e", stem3 + "es", stem3 + "e", imp_stem + "ions",
                       imp_stem + "iez", stem3 + "ent")
    return {
        "present": present,
        "imperfect": _from_stem(imp_stem, _IMPERFECT_ENDINGS),
        "future": _from_stem(fut_stem, _FUTURE_ENDINGS),
        "conditional": _from_stem(fut_stem, _IMPERFECT_ENDINGS),
        "subjunctive": subjunctive,
    }


def _irregular_paradigm(infinitive: str) -> Paradigm:
    present = _six(_IRREGULAR_PRESENT[infinitive])
    default_fut = infinitive[:-1] if infinitive.endswith("re") else infinitive
    fut_stem = _IRREGULAR_FUTURE_STEMS.get(infinitive, default_fut)
    if infinitive in ("falloir", "pleuvoir"):  # impersonal: third person singular only
        present = ("-", "-", present[2], "-", "-", "-")
        imp = _IRREGULAR_IMPERFECT_STEMS[infinitive]
        fut = _IRREGULAR_FUTURE_STEMS[infinitive]
        subj = _six(_IRREGULAR_SUBJUNCTIVE[infinitive])
        return {"present": present, "imperfect": ("-", "-", imp + "ait", "-", "-", "-"),
                "future": ("-", "-", fut + "a", "-", "-", "-"),
                "conditional": ("-", "-", fut + "ait", "-", "-", "-"), "subjunctive": subj}
    return _derived_tenses(infinitive, present, fut_stem)


def _er_stems(infinitive: str) -> tuple[str, str, str]:
    """(plain stem, stem before a/o, stem before a silent e) of an -er verb."""
    stem = infinitive[:-2]
    soft = stem + "e" if stem.endswith("g") else stem[:-1] + "ç" if stem.endswith("c") else stem
    mute = stem
    if re.search(r"é[^aeiouyéèê]+$", stem):
        mute = re.sub(r"é([^aeiouyéèê]+)$", r"è\1", stem)
    elif re.search(r"e[^aeiouyéèê]$", stem) and not stem.endswith(("ey", "eill")):
        mute = stem + stem[-1] if infinitive in _DOUBLING_VERBS else stem[:-2] + "è" + stem[-1]
    elif stem.endswith(("oy", "uy")):
        mute = stem[:-1] + "i"
    return stem, soft, mute


def _er_paradigm(infinitive: str) -> Paradigm:
    stem, soft, mute = _er_stems(infinitive)
    # "préférer" keeps its é in the future; "acheter" and "appeler" keep the changed stem.
    fut_stem = _IRREGULAR_FUTURE_STEMS.get(infinitive) or \
        (stem if "é" in stem and mute != stem else mute) + "er"
    return {
        "present": (mute + "e", mute + "es", mute + "e", soft + "ons", stem + "ez", mute + "ent"),
        "imperfect": (soft + "ais", soft + "ais", soft + "ait", stem + "ions", stem + "iez",
                      soft + "aient"),
        "future": _from_stem(fut_stem, _FUTURE_ENDINGS),
        "conditional": _from_stem(fut_stem, _IMPERFECT_ENDINGS),
        "subjunctive": (mute + "e", mute + "es", mute + "e", stem + "ions", stem + "iez",
                        mute + "ent"),
    }


def _finir_paradigm(infinitive: str) -> Paradigm:
    stem = infinitive[:-2]
    present = _from_stem(stem, "is is it issons issez issent")
    return _derived_tenses(infinitive, present, infinitive)


def _vendre_paradigm(infinitive: str) -> Paradigm:
    stem = infinitive[:-2]
    present = (stem + "s", stem + "s", stem, stem + "ons", stem + "ez", stem + "ent")
    return _derived_tenses(infinitive, present, stem + "r")


@functools.cache
def _irregular_lemmas() -> dict[str, Paradigm]:
    """Paradigms of every irregular verb and of the verbs of their families."""
    paradigms = {inf: _irregular_paradigm(inf) for inf in _IRREGULAR_PRESENT}
    for base, (old, news) in _VERB_FAMILIES.items():
        for new in news.split():
            infinitive = new + base[len(old):]
            paradigms[infinitive] = {
                tense: tuple(f if f == "-" else new + f[len(old):] for f in forms)
                for tense, forms in paradigms[base].items()}
    return paradigms


def past_participle(infinitive: str) -> str | None:
    if infinitive in _PAST_PARTICIPLES:
        return _PAST_PARTICIPLES[infinitive]
    for base, (old, news) in _VERB_FAMILIES.items():
        for new in news.split():
            if infinitive == new + base[len(old):]:
                return new + _PAST_PARTICIPLES[base][len(old):]
    if infinitive.endswith("er"):
        return infinitive[:-2] + "é"
    if infinitive in _FINIR_VERBS:
        return infinitive[:-1]
    if infinitive in _VENDRE_VERBS:
        return infinitive[:-2] + "u"
    return None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def paradigm(infinitive: str) -> Paradigm | None:
    irregular = _irregular_lemmas()
    if infinitive in irregular:
        return irregular[infinitive]
    if infinitive in _FINIR_VERBS:
        return _finir_paradigm(infinitive)
    if infinitive in _VENDRE_VERBS:
        return _vendre_paradigm(infinitive)
    if infinitive.endswith("er") and _is_word(infinitive):
        return _er_paradigm(infinitive)
    return None


@functools.cache
def _verb_form_index() -> dict[str, list[tuple[str, str, int]]]:
    """Conjugated form -> (infinitive, tense, person index) for the irregular verbs."""
    index: dict[str, list[tuple[str, str, int]]] = {}
    for infinitive, tenses in _irregular_lemmas().items():
        for tense, forms in tenses.items():
            for person, form in enumerate(forms):
                if form != "-":
                    index.setdefault(form, []).append((infinitive, tense, person))
    return index


_ER_ENDINGS = sorted(_words("""
    e es ent ons ez ais ait ions iez aient erai eras era erons erez eront erais erait
    erions eriez eraient
"""), key=len, reverse=True)


def _candidate_infinitives(word: str) -> Iterator[str]:
    """Infinitives that could have produced `word` as a regular conjugated form."""
    for ending in _ER_ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 1:
            yield from (s + "er" for s in _er_stem_guesses(word[: -len(ending)]))
    for ending in _IR_ENDINGS:
        if word.endswith(ending):
            yield word[: -len(ending)] + "ir"
    for ending in _RE_ENDINGS:
        if word.endswith(ending):
            yield word[: len(word) - len(ending)] + "re"


_IR_ENDINGS = _words("""
    issons issez issent issais issait issions issiez issaient isse isses is it irai iras
    ira irons irez iront irais irait irions iriez iraient
""")
_RE_ENDINGS = _words("""
    ons ez ent ais ait ions iez aient e es rai ras ra rons rez ront rais rait rions riez
    raient s
""") + [""]


def _er_stem_guesses(stem: str) -> Iterator[str]:
    yield stem
    if stem.endswith("ge"):
        yield stem[:-1]
    if stem.endswith("ç"):
        yield stem[:-1] + "c"
    if "è" in stem:
        yield stem[::-1].replace("è", "e", 1)[::-1]
        yield stem[::-1].replace("è", "é", 1)[::-1]
    if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] in "lt":
        yield stem[:-1]
    if stem.endswith("i"):
        yield stem[:-1] + "y"


@dataclass(frozen=True)
class VerbReading:
    infinitive: str
    tense: str
    person: int  # index into PERSONS

    def form_for(self, person: int) -> str | None:
        forms = paradigm(self.infinitive)
        form = forms[self.tense][person] if forms else "-"
        return None if form == "-" else form


@functools.lru_cache(maxsize=_CACHE_SIZE)
def verb_readings(word: str) -> tuple[VerbReading, ...]:
    """Every (infinitive, tense, person) whose conjugated form is `word`."""
    readings = [VerbReading(*r) for r in _verb_form_index().get(word, ())]
    seen = {r.infinitive for r in readings}
    for infinitive in _candidate_infinitives(word):
        if infinitive in seen:
            continue
        seen.add(infinitive)
        forms = paradigm(infinitive)
        if not forms:
            continue
        for tense, cells in forms.items():
            readings.extend(VerbReading(infinitive, tense, p)
                            for p, form in enumerate(cells) if form == word)
    return tuple(readings)


def is_finite_verb(word: str) -> bool:
    return bool(verb_readings(word))


def _best_reading(readings: Iterable[VerbReading], lemma: str) -> VerbReading:
    """Prefer spaCy's lemma, then the present tense, then the first (most common) verb."""
    readings = list(readings)
    return min(readings, key=lambda r: (r.infinitive != lemma, r.tense != "present"))


def agreement_fix(verb: Token, person: str) -> str | None:
    """The form `verb` should take for `person`, or None when it already agrees."""
    word = _lower(verb)
    readings = verb_readings(word)
    if not readings:
        return None
    wanted = PERSONS.index(person)
    if any(r.person == wanted for r in readings):
        return None
    fixed = _best_reading(readings, verb.lemma_.lower()).form_for(wanted)
    return _match_case(verb.text, fixed) if fixed else None


# --------------------------------------------------------------------------------------
# Error assembly
# --------------------------------------------------------------------------------------

def _error(first: Token, last: Token, category: str, message_key: str,
           suggestions: Iterable[str], **message_params: str) -> GrammarError:
    """An error from `first` to `last`; its message is `messages.MESSAGES[message_key]`
    with the quoted words in `message_params`."""
    unique = list(dict.fromkeys(s for s in suggestions if s))
    return GrammarError(first.idx, last.idx + len(last.text), category,
                        messages.render(message_key, message_params), unique,
                        message_key, tuple(message_params.items()))


def _span_text(first: Token, last: Token) -> str:
    return first.doc.text[first.idx: last.idx + len(last.text)]


Rule = Callable[["Doc"], Iterator[GrammarError]]

_OBJECT_CLITICS = set(_words("me m' te t' se s' le la les l' lui leur y en nous vous"))
_NEGATION_AND_CLITICS = _OBJECT_CLITICS | {"ne", "n'"}


def _skip_clitics(token: Token, limit: int = 4) -> Token | None:
    """The first token after `token` that is not "ne" or an object pronoun."""
    current = _next(token)
    while current is not None and limit and _lower(current) in _NEGATION_AND_CLITICS:
        current = _next(current)
        limit -= 1
    return current


# --------------------------------------------------------------------------------------
# Rules: elision and contraction
# --------------------------------------------------------------------------------------

_ELISIONS = {"je": "j'", "me": "m'", "te": "t'", "se": "s'", "le": "l'", "la": "l'",
             "ne": "n'", "de": "d'", "que": "qu'"}
_NO_ELISION_BEFORE = set(_words("onze onzième oui ouistiti"))
_NUMBER_ONE = {"un", "une"}  # "le un" (the number), but "d'un", "qu'une"
_CONTRACTIONS = {("à", "le"): "au", ("à", "les"): "aux", ("de", "le"): "du", ("de", "les"): "des"}


def rule_elision(doc: Doc) -> Iterator[GrammarError]:
    """ "je ai" -> "j'ai", "que il" -> "qu'il", "si il" -> "s'il", "ce est" -> "c'est"."""
    for token in doc[:-1]:
        following = _next(token)
        elided = _elided_form(token, following)
        if elided:
            fixed = _match_case(token.text, elided) + following.text
            yield _error(token, following, "contraction_elision",
                         "elision", [fixed], word=token.text, fixed=fixed)


def _elided_form(token: Token, following: Token) -> str | None:
    word, nxt = _lower(token), _lower(following)
    if token.whitespace_ == "" or not following.text[:1].isalpha():
        return None
    if word == "si" and nxt in ("il", "ils"):
        return "s'"
    if word == "ce" and nxt in ("est", "était", "étaient"):
        return "c'"
    if word not in _ELISIONS or nxt in _NO_ELISION_BEFORE:
        return None
    if word in ("le", "la") and nxt in _NUMBER_ONE:
        return None
    if following.text.isupper() and len(following.text) > 1:  # acronyms
        return None
    if word == "je" and nxt == "y":
        return "j'"
    if word == "je" and _is_verb_of_other_person(nxt, "1s"):
        return None  # "je es" is a subject-verb error: "je suis"
    if word in ("me", "te", "se") and nxt in _AVOIR_TO_ETRE:
        return None  # "ils se a lavés" is an auxiliary error: "se sont"
    if word in ("le", "la") and _prev(token) is not None and _prev(token).text.endswith("-"):
        return None
    return _ELISIONS[word] if _starts_with_vowel_sound(nxt) else None


def _is_verb_of_other_person(word: str, person: str) -> bool:
    readings = verb_readings(word)
    return bool(readings) and all(r.person != PERSONS.index(person) for r in readings)


def rule_contraction(doc: Doc) -> Iterator[GrammarError]:
    """ "à le" -> "au", "de les" -> "des" when "le/les" is an article."""
    for token in doc[:-2]:
        article = _next(token)
        pair = (_lower(token), _lower(article))
        if pair not in _CONTRACTIONS or article.pos_ == "PRON":
            continue
        noun = _next(article)
        if _starts_with_vowel_sound(noun.text) or noun.is_punct or _looks_like_infinitive(noun):
            continue
        fixed = _match_case(token.text, _CONTRACTIONS[pair])
        yield _error(token, article, "contraction_elision",
                     "contraction", [fixed],
                     words=_span_text(token, article), fixed=fixed)


def _looks_like_infinitive(token: Token) -> bool:
    word = _lower(token)
    if word in _noun_forms():
        return False
    return word.endswith(("er", "ir", "re", "oir")) and (
        token.pos_ in ("VERB", "AUX") or paradigm(word) is not None)


# --------------------------------------------------------------------------------------
# Rules: agreement inside the noun phrase
# --------------------------------------------------------------------------------------

@dataclass
class NounPhrase:
    determiner: Token | None  # article, possessive, demonstrative or number word
    adjectives: list[Token]   # between the determiner and the noun
    noun: Token
    info: NounInfo


def _noun_phrases(doc: Doc) -> Iterator[NounPhrase]:
    for token in doc:
        if _determiner_of(token) is None and not _is_number_determiner(token):
            continue
        phrase = _phrase_after(token)
        if phrase is not None and not _is_date(phrase):
            yield phrase


_MONTHS = set(_words(
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"))


def _is_number_determiner(token: Token) -> bool:
    before = _prev(token)
    if before is not None and _lower(before) in ("le", "du", "au"):
        return False  # a date or a rank: "le onze novembre"
    return _is_plural_number(token.text)


def _is_date(phrase: NounPhrase) -> bool:
    return _lower(phrase.noun) in _MONTHS and _is_plural_number(phrase.determiner.text)


def _determiner_of(token: Token) -> Determiner | None:
    word = _lower(token)
    if word not in _DETERMINERS or token.pos_ == "PRON":
        return None
    before = _prev(token)
    if word in ("le", "la", "les", "leur") and _is_object_pronoun(token, before):
        return None
    if word in ("un", "une") and before is not None and (
            _lower(before) == "et" or _is_plural_number(before.text)):
        return None  # "vingt et un ans"
    return _DETERMINERS[word]


_PRONOUN_SUBJECTS = {"qui", "ça", "cela", "ce", "c'"}


def _is_object_pronoun(word: Token, before: Token | None) -> bool:
    """ "je le vois", "je la téléphone", "qui le montre": "le/la/les" before a verb."""
    if before is None:
        return False
    previous = _lower(before)
    if previous in SUBJECT_PERSON or previous in _NEGATION_AND_CLITICS:
        return True
    following = _next(word)
    could_be_verb = following is not None and is_finite_verb(_lower(following))
    after_subject = previous in _PRONOUN_SUBJECTS or before.pos_ in ("NOUN", "PROPN")
    return could_be_verb and after_subject


def _phrase_after(determiner: Token) -> NounPhrase | None:
    adjectives: list[Token] = []
    current = _next(determiner)
    while current is not None and _lower(current) in _prenominal_forms():
        following = _next(current)
        if following is None or _noun_candidate(following) is None:
            break  # the "adjective" is the noun itself ("un petit", "le premier")
        adjectives.append(current)
        current = following
    if current is None:
        return None
    info = _noun_candidate(current)
    return NounPhrase(determiner, adjectives, current, info) if info else None


def _noun_candidate(token: Token) -> NounInfo | None:
    if not token.text.isalpha() and "-" not in token.text:
        return None
    if token.text[:1].isupper() and token.i > 0:
        return None  # proper nouns
    if _lower(token) in _NUMBER_WORDS:
        return None
    return noun_info(token)


def rule_noun_phrase_agreement(doc: Doc) -> Iterator[GrammarError]:
    """Determiner, adjectives and noun agree in gender and number."""
    for phrase in _noun_phrases(doc):
        number_error = _number_error(phrase)
        if number_error:
            yield number_error
        else:
            yield from _gender_error(phrase)
        yield from _adjective_errors(phrase)


def _phrase_number(phrase: NounPhrase) -> str | None:
    if _is_plural_number(phrase.determiner.text):
        return "p"
    return _DETERMINERS[_lower(phrase.determiner)].number


def _phrase_gender(phrase: NounPhrase) -> str | None:
    if phrase.info.gender:
        return phrase.info.gender
    det = _DETERMINERS.get(_lower(phrase.determiner))
    if det is None or (_lower(phrase.determiner) in ("mon", "ton", "son")
                       and _starts_with_vowel_sound(phrase.noun.text)):
        return None
    return det.gender


def _number_error(phrase: NounPhrase) -> GrammarError | None:
    det_number, noun_number = _phrase_number(phrase), phrase.info.number
    if not det_number or not noun_number or det_number == noun_number:
        return None
    det, noun = phrase.determiner, phrase.noun
    if det_number == "p":
        plural = _plural_noun(phrase.info, _lower(noun))
        if plural is None:
            return None
        fixed = _match_case(noun.text, plural)
        return _error(noun, noun, "number_agreement",
                      "plural_noun", [fixed],
                      determiner=det.text, fixed=fixed)
    plural_det = _PLURAL_DETERMINER.get(_lower(det))
    if plural_det is None:
        return None
    fixed = _match_case(det.text, plural_det)
    return _error(det, det, "number_agreement",
                  "plural_determiner", [fixed],
                  noun=noun.text, fixed=fixed)


def _plural_noun(info: NounInfo, word: str) -> str | None:
    plural = pluralize(info.singular if info.singular else word)
    return plural if plural != word and (_is_word(plural) or plural in _noun_forms()) else None


def _gender_error(phrase: NounPhrase) -> Iterator[GrammarError]:
    det = phrase.determiner
    word = _lower(det)
    determiner = _DETERMINERS.get(word)
    gender = phrase.info.gender
    if determiner is None or determiner.gender is None or gender is None:
        return
    if determiner.gender == gender or word not in _OTHER_GENDER:
        return
    first_after = phrase.adjectives[0] if phrase.adjectives else phrase.noun
    vowel = _starts_with_vowel_sound(first_after.text)
    if word in ("le", "la") and vowel:
        return  # "le/la" before a vowel is an elision problem, not a gender one
    if word in ("mon", "ton", "son") and vowel:
        return  # "mon amie" is correct
    fixed = _match_case(det.text, _OTHER_GENDER[word][1 if vowel else 0])
    message = "noun_masculine" if gender == "m" else "noun_feminine"
    yield _error(det, det, "gender_agreement", message, [fixed], noun=phrase.noun.text, fixed=fixed)


def _adjective_errors(phrase: NounPhrase) -> Iterator[GrammarError]:
    gender, number = _phrase_gender(phrase), _phrase_number(phrase)
    adjectives = list(phrase.adjectives)
    after = _postnominal_adjective(phrase.noun)
    if after is not None:
        adjectives.append(after)
    for token in adjectives:
        error = _adjective_agreement_error(token, phrase.noun, gender, number)
        if error:
            yield error


def _postnominal_adjective(noun: Token) -> Token | None:
    """The adjective right after the noun, when it belongs to that noun."""
    token = _next(noun)
    if token is None or not token.text.isalpha() or token.text[:1].isupper():
        return None
    related = token.head.i == noun.i or noun.head.i == token.i
    if not related or is_finite_verb(_lower(token)):
        return None
    if _lower(token) in _noun_forms():
        return None
    after = _next(token)
    if after is not None and _lower(after) in ("et", "ou", ","):
        return None  # "une robe et une veste blanches": agreement with several nouns
    return token


def _adjective_agreement_error(token: Token, noun: Token, gender: str | None,
                               number: str | None) -> GrammarError | None:
    adjective = as_adjective(token)
    if adjective is None or number is None:
        return None
    word = _lower(token)
    cells = adjective.cells_of(word)
    wanted = {g + number for g in ((gender,) if gender else ("m", "f"))}
    if cells & wanted:
        return None
    cells_in_order = [g + number for g in ("m", "f") if g + number in wanted]
    fixes = [_adjective_form(adjective, cell, token, noun) for cell in cells_in_order]
    fixes = [_match_case(token.text, f) for f in fixes if f and f != word]
    if not fixes or not all(_is_word(f.lower()) for f in fixes):
        return None
    category = "number_agreement" if any(c[0] == w[0] for c in cells for w in wanted) \
        else "gender_agreement"
    return _error(token, token, category,
                  "adjective_agreement", fixes,
                  adjective=token.text, noun=noun.text, fixed=fixes[0])


def _adjective_form(adjective: Adjective, cell: str, token: Token, noun: Token) -> str:
    """Best spelling for `cell`; "bel", "nouvel", "vieil" right before a vowel."""
    spellings = adjective.forms[cell]
    if len(spellings) > 1 and token.i == noun.i - 1 and _starts_with_vowel_sound(noun.text):
        return spellings[1]
    return spellings[0]


# --------------------------------------------------------------------------------------
# Rules: predicative adjectives and participles after "être"
# --------------------------------------------------------------------------------------

_ETRE_FORMS = set(_words("""
    suis es est sommes êtes sont étais était étions étiez étaient serai seras sera serons
    serez seront serais serait serions seriez seraient
"""))
_PREDICATE_ADVERBS = set(_words(
    "pas très trop si vraiment assez plus moins aussi tellement toujours encore déjà "
    "jamais bien souvent"))
_PRONOUN_AGREEMENT = {"il": ("m", "s"), "elle": ("f", "s"), "ils": ("m", "p"),
                      "elles": ("f", "p"), "nous": (None, "p"), "vous": (None, None),
                      "je": (None, "s"), "j'": (None, "s"), "tu": (None, "s")}


def rule_predicate_agreement(doc: Doc) -> Iterator[GrammarError]:
    """ "Ma voiture est vieux" -> "vieille"; "Elle est tombé" -> "tombée"."""
    for verb in doc:
        if _lower(verb) not in _ETRE_FORMS:
            continue
        subject = _subject_before(verb)
        if subject is None:
            continue
        gender, number, subject_token = subject
        predicate = _predicate_after(verb)
        if predicate is None or number is None:
            continue
        error = _participle_agreement_error(predicate, subject_token, gender, number) \
            if _is_participle(predicate) else \
            _predicative_adjective_error(predicate, subject_token, gender, number)
        if error:
            yield error


def _subject_before(verb: Token) -> tuple[str | None, str | None, Token] | None:
    """Gender and number of the subject written just before a form of "être"."""
    token = _prev(verb)
    if token is not None and _lower(token) in ("ne", "n'"):
        token = _prev(token)
    if token is None:
        return None
    word = _lower(token)
    if word in _PRONOUN_AGREEMENT:
        if word in ("nous", "vous", "elle", "elles") and not _is_clause_start(token):
            return None
        gender, number = _PRONOUN_AGREEMENT[word]
        return gender, number, token
    if word in _OBJECT_CLITICS:
        return None  # reflexive: "elle s'est lavé les mains" agrees differently
    phrase = _clause_initial_phrase_ending_at(token)
    if phrase is None:
        return None
    return _phrase_gender(phrase), _phrase_number(phrase), phrase.noun


def _clause_initial_phrase_ending_at(noun: Token) -> NounPhrase | None:
    """The noun phrase ending with `noun` when it opens its clause ("Mes amis ...")."""
    for size in (1, 2, 3):
        det = _prev(noun, size)
        if det is None or _determiner_of(det) is None or not _is_clause_start(det):
            continue
        phrase = _phrase_after(det)
        if phrase is not None and phrase.noun.i == noun.i and not _coordinated(noun):
            return phrase
    return None


def _coordinated(noun: Token) -> bool:
    return any(child.dep_ == "conj" for child in noun.children) or noun.dep_ == "conj"


def _predicate_after(verb: Token) -> Token | None:
    token = _next(verb)
    while token is not None and _lower(token) in _PREDICATE_ADVERBS:
        token = _next(token)
    if token is None or not token.text.isalpha() or token.text[:1].isupper():
        return None
    return token


def _is_participle(token: Token) -> bool:
    participle = past_participle(token.lemma_.lower())
    return participle is not None and _lower(token) in _participle_forms(participle)


def _participle_forms(participle: str) -> dict[str, str]:
    plural = participle if participle.endswith("s") else participle + "s"
    return {participle: "ms", participle + "e": "fs", plural: "mp", participle + "es": "fp"}


def _participle_agreement_error(token: Token, subject: Token, gender: str | None,
                                number: str) -> GrammarError | None:
    participle = past_participle(token.lemma_.lower())
    forms = _participle_forms(participle)
    cell = forms[_lower(token)]
    genders = (gender,) if gender else ("m", "f")
    wanted = [g + number for g in genders]
    if cell in wanted:
        return None
    by_cell = {c: f for f, c in forms.items()}
    fixes = [_match_case(token.text, by_cell[c]) for c in wanted]
    return _error(token, token, "past_participle",
                  "participle_agreement", fixes,
                  subject=subject.text, fixed=fixes[0])


_ADVERBS_AFTER_ETRE = set(_words(
    "ensemble ici là partout debout dehors dedans loin près bien mal mieux ailleurs comme "
    "tard tôt pareil contre avant après derrière devant autour"))


def _predicative_adjective_error(token: Token, subject: Token, gender: str | None,
                                 number: str) -> GrammarError | None:
    word = _lower(token)
    if word in _noun_forms() or token.pos_ in ("NOUN", "PROPN", "DET", "ADP", "PRON"):
        return None  # "elle est professeur", "il est à Paris"
    if word in _ADVERBS_AFTER_ETRE:
        return None  # "ils sont ensemble"
    if "Fin" in token.morph.get("VerbForm"):
        return None
    return _adjective_agreement_error(token, subject, gender, number)


# --------------------------------------------------------------------------------------
# Rules: subject-verb agreement
# --------------------------------------------------------------------------------------

_PREPOSITIONS = set(_words(
    "à de avec pour chez sans contre derrière devant vers entre sur sous dans par après "
    "avant comme selon malgré"))


def rule_pronoun_subject_verb(doc: Doc) -> Iterator[GrammarError]:
    """ "je vont" -> "je vais", "nous mange" -> "nous mangeons"."""
    for token in doc:
        person = _subject_pronoun_person(token)
        if person is None:
            continue
        verb = _skip_clitics(token)
        if verb is None or not verb.text.isalpha():
            continue
        fix = agreement_fix(verb, person) or _overregularized_fix(verb, person)
        if fix:
            yield _error(verb, verb, "subject_verb",
                         "verb_after_pronoun", [fix],
                         subject=token.text, fixed=fix)


def _subject_pronoun_person(token: Token) -> str | None:
    word = _lower(token)
    if word not in SUBJECT_PERSON:
        return None
    before = _prev(token)
    if before is not None and (_lower(before) in _PREPOSITIONS or before.text.endswith("-")):
        return None
    if word in ("nous", "vous", "elle", "elles") and not _is_clause_start(token):
        return None  # object or stressed pronoun: "il nous parle", "c'est elle"
    return SUBJECT_PERSON[word]


def _overregularized_fix(verb: Token, person: str) -> str | None:
    """ "vous faisez" -> "faites", "vous disez" -> "dites"."""
    word = _lower(verb)
    if person != "2p" or not word.endswith("ez") or _is_word(word):
        return None
    for infinitive in ("faire", "dire"):
        forms = paradigm(infinitive)["present"]
        if word == forms[3][:-3] + "ez":
            return _match_case(verb.text, forms[4])
    return None


_COLLECTIVE_NOUNS = set(_words(
    "plupart majorité minorité nombre moitié partie reste foule groupe tas dizaine "
    "douzaine vingtaine centaine millier ensemble personne"))


def rule_noun_subject_verb(doc: Doc) -> Iterator[GrammarError]:
    """ "Mes enfants aime" -> "aiment"; "Les réunions qui commence" -> "commencent"."""
    for phrase in _noun_phrases(doc):
        number = _subject_number(phrase)
        if number is None:
            continue
        verb = _verb_after_subject(phrase)
        if verb is None or _agrees_as_adjective(verb, phrase):
            continue
        person = "3s" if number == "s" else "3p"
        fix = agreement_fix(verb, person)
        if fix:
            yield _error(verb, verb, "subject_verb",
                         "verb_after_noun", [fix],
                         subject=_span_text(phrase.determiner, phrase.noun), fixed=fix)


def _subject_number(phrase: NounPhrase) -> str | None:
    det_number = _phrase_number(phrase)
    noun_number = phrase.info.number
    if _lower(phrase.noun) in _COLLECTIVE_NOUNS or _coordinated(phrase.noun):
        return None
    if noun_number and det_number and noun_number != det_number:
        return None  # the phrase itself is wrong; its number is unclear
    return det_number or noun_number


def _verb_after_subject(phrase: NounPhrase) -> Token | None:
    after = _next(phrase.noun)
    if after is None:
        return None
    if _lower(after) == "qui":
        before = _prev(phrase.determiner)
        if before is not None and _lower(before) in ("de", "d'", "des", "du", "un", "une"):
            return None  # "le frère de mes amis qui ...", "un des amis qui m'a aidé"
        return _skip_clitics(after)
    if not _is_clause_start(phrase.determiner):
        return None
    if _lower(after) in _NEGATION_AND_CLITICS:
        return _skip_clitics(phrase.noun)
    return after


def _agrees_as_adjective(token: Token, phrase: NounPhrase) -> bool:
    """ "Les enfants calmes jouent": "calmes" is an adjective, not the verb "calmer"."""
    is_noun = _lower(token) in _noun_forms() and token.pos_ not in ("VERB", "AUX")
    adjective = as_adjective(token)
    if adjective is None:
        return is_noun
    gender, number = _phrase_gender(phrase), _phrase_number(phrase)
    wanted = {g + (number or "s") for g in ((gender,) if gender else ("m", "f"))}
    return bool(adjective.cells_of(_lower(token)) & wanted) or is_noun


# --------------------------------------------------------------------------------------
# Rules: auxiliaries and participles
# --------------------------------------------------------------------------------------

_AVOIR_TO_ETRE = {"ai": "suis", "as": "es", "a": "est", "avons": "sommes", "avez": "êtes",
                  "ont": "sont", "avais": "étais", "avait": "était", "avions": "étions",
                  "aviez": "étiez", "avaient": "étaient"}
# Verbs that only ever take "être" (the transitive ones, like "sortir", are left out).
_ETRE_VERBS = set(_words(
    "aller venir arriver partir rester naître mourir tomber devenir revenir parvenir "
    "décéder intervenir repartir"))
_ADVERBS_IN_COMPOUND_TENSES = set(_words(
    "pas jamais déjà bien encore toujours plus beaucoup souvent vraiment trop tout rien "
    "aussi enfin"))


def _is_avoir_auxiliary(token: Token) -> bool:
    """A form of "avoir" after its subject (so not "a" written for "à")."""
    if _lower(token) not in _AVOIR_TO_ETRE:
        return False
    before = _prev(token)
    if before is None:
        return False
    word = _lower(before)
    if word == "y":
        return False  # "il y a"
    return word in SUBJECT_PERSON or word in _NEGATION_AND_CLITICS or (
        before.pos_ in ("NOUN", "PROPN") and _lower(token) in ("a", "ont", "avait"))


def _participle_after(token: Token) -> Token | None:
    current = _next(token)
    while current is not None and _lower(current) in _ADVERBS_IN_COMPOUND_TENSES:
        current = _next(current)
    return current


def rule_auxiliary(doc: Doc) -> Iterator[GrammarError]:
    """ "Nous avons arrivés" -> "sommes"; "Je m'ai couché" -> "me suis"."""
    for token in doc:
        if not _is_avoir_auxiliary(token):
            continue
        reflexive = _reflexive_with_avoir(token)
        if reflexive:
            yield reflexive
            continue
        participle = _participle_after(token)
        if participle is None or participle.lemma_.lower() not in _ETRE_VERBS:
            continue
        if _lower(participle) not in _participle_forms(past_participle(participle.lemma_.lower())):
            continue
        yield _auxiliary_error(token)


def _reflexive_with_avoir(aux: Token) -> GrammarError | None:
    """ "je m'ai couché" -> "me suis", "ils s'ont mariés" -> "se sont"."""
    pronoun = _prev(aux)
    word = _lower(pronoun)
    first_person = word in ("m'", "me") and _lower(aux) == "ai"
    if not first_person and word not in ("s'", "se"):
        return None
    subject = _prev(pronoun)
    person = SUBJECT_PERSON.get(_lower(subject)) if subject is not None else None
    etre = _ETRE_PRESENT[PERSONS.index(person)] if person else _AVOIR_TO_ETRE[_lower(aux)]
    reflexive = word[0] + ("'" if _starts_with_vowel_sound(etre) else "e ")
    fixed = _match_case(pronoun.text, reflexive) + etre
    return _error(pronoun, aux, "auxiliary",
                  "reflexive_takes_etre", [fixed])


_ETRE_PRESENT = ("suis", "es", "est", "sommes", "êtes", "sont")


def _auxiliary_error(aux: Token) -> GrammarError:
    etre = _AVOIR_TO_ETRE[_lower(aux)]
    before = _prev(aux)
    if _lower(before) == "j'":  # "j'ai" -> "je suis"
        fixed = _match_case(before.text, "je") + " " + etre
        return _error(before, aux, "auxiliary", "verb_takes_etre", [fixed], fixed="je suis")
    return _error(aux, aux, "auxiliary", "verb_takes_etre", [_match_case(aux.text, etre)], fixed=etre)


_MODAL_FORMS = set(_words("""
    vais vas va allons allez vont peux peut pouvons pouvez peuvent veux veut voulons
    voulez veulent dois doit devons devez doivent sais sait savons savez savent
"""))


def rule_participle_or_infinitive(doc: Doc) -> Iterator[GrammarError]:
    """ "j'ai visiter" -> "visité"; "je vais préparé" -> "préparer"."""
    for token in doc:
        target = _participle_after(token)
        if target is None or not target.text.isalpha() or _lower(target) in _noun_forms():
            continue
        word = _lower(target)
        if _is_avoir_auxiliary(token) and word.endswith("er") and _is_er_verb(word):
            fixed = _match_case(target.text, word[:-2] + "é")
            yield _error(target, target, "past_participle",
                         "participle_after_auxiliary", [fixed],
                         auxiliary=token.text, fixed=fixed)
        elif _lower(token) in _MODAL_FORMS and word.endswith("é") and \
                word != "été" and _is_er_verb(word[:-1] + "er"):
            fixed = _match_case(target.text, word[:-1] + "er")
            yield _error(target, target, "past_participle",
                         "infinitive_after_verb", [fixed],
                         verb=token.text, fixed=fixed)


def _is_er_verb(infinitive: str) -> bool:
    return infinitive.endswith("er") and infinitive != "aller" and _is_word(infinitive) \
        and paradigm(infinitive) is not None


@functools.cache
def _regularized_participles() -> dict[str, str]:
    """Participles a learner builds by analogy ("prendu", "metté") -> the real one."""
    wrong: dict[str, str] = {}
    for infinitive, forms in _irregular_lemmas().items():
        real = past_participle(infinitive)
        stems = {infinitive[:-2] if infinitive.endswith(("re", "ir")) else infinitive[:-3],
                 forms["present"][3][:-3], forms["present"][0].rstrip("sx")}
        for stem in stems - {"-", ""}:
            for ending in ("é", "i", "u"):
                guess = stem + ending
                if guess != real and len(guess) > 3:
                    wrong.setdefault(guess, real)
    return wrong


def rule_regularized_participle(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        word = _lower(token)
        real = _regularized_participles().get(word)
        if real and not _is_word(word):
            fixed = _match_case(token.text, real)
            yield _error(token, token, "past_participle",
                         "irregular_participle", [fixed], fixed=fixed)


# --------------------------------------------------------------------------------------
# Rules: negation
# --------------------------------------------------------------------------------------

_NEGATIVE_WORDS = {"jamais", "rien", "personne", "aucun", "aucune"}
_PARTITIVE_VERB_LEMMAS = {"avoir", "manger", "boire", "acheter", "prendre", "vouloir",
                          "faire", "trouver", "voir"}


def rule_double_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "pas jamais" -> "jamais" ("ce n'est pas rien" is idiomatic and left alone)."""
    for token in doc[:-1]:
        negative = _next(token)
        if _lower(token) != "pas" or _lower(negative) not in _NEGATIVE_WORDS:
            continue
        if any(_lower(t) in ("est", "était") for t in doc[max(0, token.i - 2): token.i]):
            continue
        yield _error(token, negative, "negation",
                     "pas_with_negative", [negative.text],
                     negative=negative.text)


def rule_partitive_after_negation(doc: Doc) -> Iterator[GrammarError]:
    """ "je n'ai pas des frères" -> "pas de frères"."""
    for token in doc[:-1]:
        if _lower(token) not in ("pas", "plus", "jamais") or not _negated_verb_takes_de(token):
            continue
        article = _next(token)
        word = _lower(article)
        if word in ("du", "des"):
            last = article
        elif word == "de" and _next(article) is not None and _lower(_next(article)) in ("la", "l'"):
            last = _next(article)
        else:
            continue
        following = _next(last)
        fixed = "d'" if following is not None and _starts_with_vowel_sound(following.text) \
            else "de"
        yield _error(article, last, "negation",
                     "article_after_negation", [fixed],
                     words=_span_text(article, last), fixed=fixed)


def _negated_verb_takes_de(negation: Token) -> bool:
    verb = _prev(negation)
    ne = _prev(verb) if verb is not None else None
    while ne is not None and _lower(ne) in _OBJECT_CLITICS:
        ne = _prev(ne)
    if ne is None or _lower(ne) not in ("ne", "n'"):
        return False
    if _lower(verb) in _ETRE_FORMS:
        return False  # "ce ne sont pas des pommes"
    lemmas = {r.infinitive for r in verb_readings(_lower(verb))} | {verb.lemma_.lower()}
    return bool(lemmas & _PARTITIVE_VERB_LEMMAS)


# --------------------------------------------------------------------------------------
# Rules: pronouns
# --------------------------------------------------------------------------------------

_STRESSED = {"je": "moi", "tu": "toi", "il": "lui", "ils": "eux"}
_STRESS_PREPOSITIONS = {"avec", "chez", "sans", "contre", "derrière", "devant", "pour"}
_REFLEXIVE_FOR = {"nous": "nous", "vous": "vous", "je": "me", "tu": "te"}
_INDIRECT_ONLY_VERBS = {"téléphoner", "répondre", "sourire", "plaire", "ressembler",
                        "mentir", "obéir"}


def rule_pronouns(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        yield from _stressed_pronoun_error(token)
        yield from _reflexive_person_error(token)
        yield from _relative_que_error(token)
        yield from _indirect_object_error(token)
        yield from _y_instead_of_en_error(token)
        yield from _indirect_question_error(token)


def _stressed_pronoun_error(token: Token) -> Iterator[GrammarError]:
    """ "avec il" -> "avec lui"; "plus grand que je." -> "que moi"."""
    word = _lower(token)
    before, after = _prev(token), _next(token)
    if word not in _STRESSED or before is None:
        return
    after_preposition = _lower(before) in _STRESS_PREPOSITIONS
    comparison_end = _lower(before) == "que" and word in ("je", "tu") and (
        after is None or after.is_punct)
    if after_preposition or comparison_end:
        fixed = _STRESSED[word]
        yield _error(token, token, "pronoun",
                     "stressed_pronoun", [fixed],
                     word=before.text, fixed=fixed)


def _reflexive_person_error(token: Token) -> Iterator[GrammarError]:
    """ "nous se levons" -> "nous nous levons"."""
    subject = _prev(token)
    if _lower(token) != "se" or subject is None:
        return
    word = _lower(subject)
    if word not in _REFLEXIVE_FOR or not _is_clause_start(subject):
        return
    fixed = _REFLEXIVE_FOR[word]
    yield _error(token, token, "pronoun",
                 "reflexive_person", [fixed],
                 subject=subject.text, fixed=fixed)


def _relative_que_error(token: Token) -> Iterator[GrammarError]:
    """ "la fille qui j'ai rencontrée" -> "que": "qui" cannot have another subject."""
    before, after = _prev(token), _next(token)
    if _lower(token) != "qui" or before is None or after is None:
        return
    if _lower(after) not in ("je", "j'", "tu", "il", "elle", "on", "ils", "elles"):
        return
    if _noun_candidate(before) is None or _lower(before) in _NUMBER_WORDS:
        return
    fixed = "qu'" if _starts_with_vowel_sound(after.text) else "que"
    if fixed == "qu'":
        yield _error(token, after, "pronoun", "relative_que", [fixed + after.text])
    else:
        yield _error(token, token, "pronoun",
                     "relative_que", [fixed])


def _indirect_object_error(token: Token) -> Iterator[GrammarError]:
    """ "je la téléphone" -> "je lui téléphone"."""
    word = _lower(token)
    before, verb = _prev(token), _next(token)
    if word not in ("le", "la", "les") or before is None or verb is None:
        return
    if _lower(before) not in SUBJECT_PERSON and _lower(before) not in ("ne", "n'"):
        return
    lemmas = {r.infinitive for r in verb_readings(_lower(verb))}
    if lemmas & _INDIRECT_ONLY_VERBS:
        fixed = "leur" if word == "les" else "lui"
        yield _error(token, token, "pronoun",
                     "indirect_object", [fixed], fixed=fixed)


def _y_instead_of_en_error(token: Token) -> Iterator[GrammarError]:
    """ "j'en vais" -> "j'y vais" ("je m'en vais" is fine)."""
    before, verb = _prev(token), _next(token)
    if _lower(token) != "en" or before is None or verb is None:
        return
    if _lower(before) not in SUBJECT_PERSON or _lower(before) in ("nous", "vous"):
        return
    after = _next(verb)
    if after is not None and _lower(after) in ("de", "ainsi"):
        return  # "il en va de même"
    if any(r.infinitive == "aller" and r.tense == "present" for r in verb_readings(_lower(verb))):
        yield _error(token, token, "pronoun", "place_is_y", ["y"])


def _indirect_question_error(token: Token) -> Iterator[GrammarError]:
    """ "je ne sais pas qu'est-ce qu'il veut" -> "ce qu'il veut"."""
    if _lower(token) != "qu'":
        return
    est, ce = _next(token), _next(token, 2)
    before = _prev(token)
    if est is None or ce is None or _lower(est) != "est" or _lower(ce) != "-ce":
        return
    if before is None or not (before.pos_ in ("VERB", "AUX") or _lower(before) == "pas"
                              or is_finite_verb(_lower(before))):
        return
    yield _error(token, ce, "pronoun", "indirect_question", ["ce"])


# --------------------------------------------------------------------------------------
# Rules: word order
# --------------------------------------------------------------------------------------

_CLITIC_RANK = {"me": 1, "te": 1, "se": 1, "nous": 1, "vous": 1, "le": 2, "la": 2,
                "les": 2, "lui": 3, "leur": 3, "y": 4, "en": 5}
_STANDALONE_ADVERBS = set(_words(
    "souvent bien toujours jamais maintenant demain aujourd'hui hier aussi encore "
    "beaucoup vraiment ici là parfois"))
_MOVABLE_ADVERBS = {"déjà", "jamais", "bien"}


def rule_word_order(doc: Doc) -> Iterator[GrammarError]:
    for token in doc[:-1]:
        yield from _clitic_before_ne(token)
        yield from _clitic_pair_order(token)
        yield from _postnominal_adjective_before_noun(token)
        yield from _object_pronoun_after_verb(token)
        yield from _adverb_after_participle(token)


def _swap(first: Token, second: Token, message_key: str) -> GrammarError:
    """Both words are clitics after their subject, so never capitalised."""
    return _error(first, second, "word_order", message_key, [f"{second.text} {first.text}"])


def _clitic_before_ne(token: Token) -> Iterator[GrammarError]:
    """ "je le ne comprends pas" -> "je ne le comprends pas"."""
    ne, before = _next(token), _prev(token)
    if _lower(token) not in _CLITIC_RANK or _lower(ne) != "ne" or before is None:
        return
    if _lower(before) in SUBJECT_PERSON:
        yield _swap(token, ne, "ne_before_pronoun")


def _clitic_pair_order(token: Token) -> Iterator[GrammarError]:
    """ "tu le me rends" -> "tu me le rends"."""
    second, before = _next(token), _prev(token)
    if before is None or _lower(before) not in {*SUBJECT_PERSON, "ne", "n'"}:
        return
    first_rank = _CLITIC_RANK.get(_lower(token))
    second_rank = _CLITIC_RANK.get(_lower(second))
    if not first_rank or not second_rank or first_rank <= second_rank:
        return
    verb = _next(second)
    if verb is not None and is_finite_verb(_lower(verb)):
        yield _swap(token, second, "pronoun_order")


def _postnominal_adjective_before_noun(token: Token) -> Iterator[GrammarError]:
    """ "une rouge robe" -> "une robe rouge"."""
    noun, det = _next(token), _prev(token)
    word = _lower(token)
    if det is None or _lower(det) not in _DETERMINERS or word not in _postnominal_forms():
        return
    if _lower(noun) not in _noun_forms() or token.text[:1].isupper():
        return
    fixed = f"{noun.text} {token.text}"
    yield _error(token, noun, "word_order",
                 "adjective_after_noun", [fixed],
                 adjective=token.text, fixed=fixed)


def _object_pronoun_after_verb(token: Token) -> Iterator[GrammarError]:
    """ "je vois le souvent" -> "je le vois souvent"."""
    pronoun, subject = _next(token), _prev(token)
    after = _next(token, 2)
    if subject is None or _lower(subject) not in SUBJECT_PERSON or pronoun is None:
        return
    if _lower(pronoun) not in ("le", "la", "les") or not is_finite_verb(_lower(token)):
        return
    if _lower(token) in _ETRE_FORMS:
        return
    if after is None or after.is_punct or _lower(after) in _STANDALONE_ADVERBS:
        fixed = f"{pronoun.text} {token.text}"
        yield _error(token, pronoun, "word_order",
                     "pronoun_before_verb", [fixed], fixed=fixed)


def _adverb_after_participle(token: Token) -> Iterator[GrammarError]:
    """ "j'ai lu déjà" -> "j'ai déjà lu"."""
    participle, adverb = _next(token), _next(token, 2)
    if adverb is None or _lower(adverb) not in _MOVABLE_ADVERBS:
        return
    if not (_is_avoir_auxiliary(token) or (_lower(token) in _ETRE_FORMS)):
        return
    if not _is_participle(participle):
        return
    after = _next(adverb)
    if after is not None and _lower(after) in ("de", "des", "du", "que", "qu'", "d'"):
        return  # "il a fait bien des erreurs"
    fixed = f"{adverb.text} {participle.text}"
    yield _error(participle, adverb, "word_order",
                 "adverb_before_participle", [fixed], fixed=fixed)


# --------------------------------------------------------------------------------------
# Rules: tense and mood
# --------------------------------------------------------------------------------------

_SUBJUNCTIVE_TRIGGERS = (
    ("faut", "que"), ("faudrait", "que"), ("bien", "que"), ("avant", "que"),
    ("pour", "que"), ("afin", "que"), ("sans", "que"), ("condition", "que"),
    ("veux", "que"), ("veut", "que"), ("voulez", "que"), ("voudrais", "que"),
    ("voudrait", "que"), ("aimerais", "que"), ("souhaite", "que"), ("doute", "que"),
    ("important", "que"), ("essentiel", "que"), ("nécessaire", "que"),
    ("possible", "que"), ("impossible", "que"), ("dommage", "que"), ("préfère", "que"),
)
_WHETHER_VERBS = {"savoir", "demander", "ignorer", "vérifier", "dire", "voir",
                  "comprendre", "hésiter", "regarder"}
_INDEFINITE_SUBJECTS = {"chacun": "3s", "quelqu'un": "3s", "personne": "3s"}


def rule_subjunctive(doc: Doc) -> Iterator[GrammarError]:
    """ "il faut que tu viens" -> "viennes"."""
    for token in doc:
        if not _is_subjunctive_trigger(token):
            continue
        subject = _next(token)
        person = _clause_subject_person(subject)
        verb = _skip_clitics(subject) if person else None
        if verb is None:
            continue
        fix = _mood_fix(verb, person, "present", "subjunctive")
        if fix:
            yield _error(verb, verb, "tense_mood",
                         "subjunctive_after_conjunction", [fix], fixed=fix)


def _is_subjunctive_trigger(token: Token) -> bool:
    if _lower(token) not in ("que", "qu'"):
        return False
    before = _prev(token)
    return before is not None and any(_lower(before) == w for w, _ in _SUBJUNCTIVE_TRIGGERS)


def _clause_subject_person(token: Token | None) -> str | None:
    if token is None:
        return None
    word = _lower(token)
    if word in SUBJECT_PERSON:
        return SUBJECT_PERSON[word]
    return _INDEFINITE_SUBJECTS.get(word)


def _mood_fix(verb: Token, person: str, wrong_tense: str, right_tense: str) -> str | None:
    """The `right_tense` form when `verb` is in `wrong_tense` and not also in `right_tense`."""
    wanted = PERSONS.index(person)
    readings = [r for r in verb_readings(_lower(verb)) if r.person == wanted]
    if not readings or any(r.tense == right_tense for r in readings):
        return None
    wrong = [r for r in readings if r.tense == wrong_tense]
    if not wrong:
        return None
    reading = _best_reading(wrong, verb.lemma_.lower())
    fixed = VerbReading(reading.infinitive, right_tense, wanted).form_for(wanted)
    return _match_case(verb.text, fixed) if fixed and fixed != _lower(verb) else None


def rule_si_clause(doc: Doc) -> Iterator[GrammarError]:
    """ "Si tu aurais su" -> "avais"; "si tu viendras" -> "viens"."""
    for token in doc:
        if _lower(token) not in ("si", "s'") or _follows_whether_verb(token):
            continue
        subject = _next(token)
        person = _clause_subject_person(subject)
        verb = _skip_clitics(subject) if person else None
        if verb is None:
            continue
        fix = _mood_fix(verb, person, "conditional", "imperfect") or \
            _mood_fix(verb, person, "future", "present")
        if fix:
            yield _error(verb, verb, "tense_mood",
                         "tense_after_si", [fix], fixed=fix)


def _follows_whether_verb(si: Token) -> bool:
    """ "je ne sais pas si tu viendras": here "si" means "whether"."""
    for token in reversed(si.doc[max(0, si.i - 4): si.i]):
        if token.is_punct:
            return False
        lemmas = {r.infinitive for r in verb_readings(_lower(token))} | {token.lemma_.lower()}
        if lemmas & _WHETHER_VERBS:
            return True
    return False


def rule_polite_conditional(doc: Doc) -> Iterator[GrammarError]:
    """ "je voudrai un café" -> "je voudrais" (the polite request is a conditional)."""
    for token in doc[1:]:
        if _lower(token) == "voudrai" and _lower(_prev(token)) in ("je", "j'"):
            fixed = _match_case(token.text, "voudrais")
            yield _error(token, token, "tense_mood",
                         "polite_conditional", [fixed], fixed=fixed)


# --------------------------------------------------------------------------------------
# Rules: prepositions
# --------------------------------------------------------------------------------------

_FEMININE_COUNTRIES = set(_words("""
    france espagne italie allemagne autriche suisse belgique irlande angleterre écosse
    suède norvège finlande pologne grèce turquie russie chine inde australie argentine
    colombie bolivie croatie hongrie roumanie bulgarie tunisie algérie égypte corée
    thaïlande indonésie malaisie californie floride bretagne normandie provence alsace
    europe afrique asie amérique océanie ukraine slovaquie slovénie serbie lituanie
    lettonie estonie tchéquie arabie syrie jordanie éthiopie
"""))
_MASCULINE_COUNTRIES = set(_words("""
    portugal canada japon mexique brésil maroc danemark luxembourg sénégal chili pérou
    vietnam liban québec cameroun congo mali niger nigeria kenya pakistan venezuela
    royaume-uni cambodge laos népal
"""))
_PLURAL_COUNTRIES = set(_words("états-unis pays-bas philippines émirats"))
_CITIES = set(_words("""
    paris lyon marseille toulouse nice nantes strasbourg montpellier bordeaux lille rennes
    londres berlin madrid rome vienne bruxelles genève lausanne zurich amsterdam lisbonne
    barcelone munich hambourg prague varsovie moscou dublin édimbourg oslo stockholm
    copenhague helsinki athènes istanbul tokyo pékin shanghai montréal québec toronto
    new-york chicago boston milan venise florence naples budapest cracovie séville
"""))


def rule_place_preposition(doc: Doc) -> Iterator[GrammarError]:
    """ "en Berlin" -> "à Berlin", "en Portugal" -> "au Portugal", "à Autriche" -> "en"."""
    for token in doc[:-1]:
        place = _next(token)
        word, name = _lower(token), _lower(place)
        if not place.text[:1].isupper() or word not in ("en", "à", "au"):
            continue
        fixed = _place_preposition(name)
        if fixed is None or fixed == word or (word == "en" and fixed == "en"):
            continue
        if name == "québec" and word in ("à", "au"):
            continue  # the city and the province
        yield _error(token, token, "preposition",
                     "preposition_before_place",
                     [_match_case(token.text, fixed)], place=place.text, fixed=fixed)


def _place_preposition(name: str) -> str | None:
    if name in _CITIES:
        return "à"
    if name in _PLURAL_COUNTRIES:
        return "aux"
    if name in _FEMININE_COUNTRIES:
        return "en"
    if name in _MASCULINE_COUNTRIES:
        return "en" if _starts_with_vowel_sound(name) else "au"
    return None


_INSTRUMENTS = set(_words(
    "piano guitare violon batterie flûte trompette saxophone violoncelle harpe accordéon "
    "clarinette basse ukulélé"))
_SPORTS = set(_words(
    "football foot tennis basket basketball volley volleyball rugby golf hockey handball "
    "badminton ping-pong baseball"))
_JOUER_FORMS = set(_words(
    "joue joues jouons jouez jouent jouer joué jouais jouait jouions jouiez jouaient"))


def rule_jouer_preposition(doc: Doc) -> Iterator[GrammarError]:
    """ "jouer au piano" -> "du piano"; "jouer du football" -> "au football"."""
    for token in doc[:-2]:
        if _lower(token) not in _JOUER_FORMS:
            continue
        prep, thing = _next(token), _next(token, 2)
        word, name = _lower(prep), _lower(thing)
        if word == "au" and name in _INSTRUMENTS:
            fixed = "du"
        elif word == "du" and name in _SPORTS:
            fixed = "au"
        else:
            continue
        yield _error(prep, prep, "preposition",
                     "jouer_preposition", [fixed],
                     fixed=fixed, thing=thing.text)


_DEPENDRE_FORMS = set(_words(
    "dépend dépends dépendent dépendait dépendaient dépendre dépendra dépendrait"))


def rule_dependre_de(doc: Doc) -> Iterator[GrammarError]:
    """ "ça dépend sur la météo" -> "dépend de"."""
    for token in doc[:-1]:
        prep = _next(token)
        if _lower(token) not in _DEPENDRE_FORMS or _lower(prep) != "sur":
            continue
        article = _next(prep)
        contracted = {"le": "du", "les": "des"}.get(_lower(article)) if article else None
        if contracted:
            yield _error(prep, article, "preposition", "dependre_de", [contracted])
        else:
            yield _error(prep, prep, "preposition", "dependre_de", ["de"])


_PLACE_NOUNS = set(_words("""
    boulangerie pharmacie banque poste gare magasin supermarché marché restaurant café
    hôpital école piscine bibliothèque librairie boucherie épicerie cinéma musée parc
    plage mairie université bureau stade théâtre aéroport hôtel
"""))


def rule_chez_place(doc: Doc) -> Iterator[GrammarError]:
    """ "chez la boulangerie" -> "à la boulangerie" ("chez" is for people)."""
    for token in doc[:-2]:
        article, place = _next(token), _next(token, 2)
        if _lower(token) != "chez" or _lower(place) not in _PLACE_NOUNS:
            continue
        word = _lower(article)
        if word in ("la", "l'"):
            yield _error(token, token, "preposition", "chez_is_for_people",
                         [_match_case(token.text, "à")])
        elif word in ("le", "les"):
            fixed = _match_case(token.text, "au" if word == "le" else "aux")
            yield _error(token, article, "preposition", "chez_is_for_people",
                         [fixed])


# --------------------------------------------------------------------------------------
# Rules: spelling
# --------------------------------------------------------------------------------------

_ACCENTLESS_WORDS = {"a": "à", "ou": "où"}
_INFORMAL_WORDS = set(_words("""
    ok okay cool lol mdr ptdr stp svp bof sympa resto ciné appart prof fac télé coloc ado
    frigo pote super hello hi bye email mail wifi internet smartphone selfie weekend job
    sorry yes no fun bisous bisou merci salut coucou euh hum oh ah ben bah hein ouais
    wow week end
"""))
_PLACE_QUESTION_WORDS = set(_words(
    "est sont était étaient se habite habites habitez habitent vas va allez vont es êtes "
    "sommes suis"))


def rule_spelling(doc: Doc) -> Iterator[GrammarError]:
    for token in doc:
        error = _accent_confusion(token) or _misspelling(token)
        if error:
            yield error


def _accent_confusion(token: Token) -> GrammarError | None:
    """ "je vais a la piscine" -> "à"; "tu sais ou est la gare" -> "où"."""
    word = _lower(token)
    before, after = _prev(token), _next(token)
    if word == "a" and before is not None and after is not None and _a_means_a_grave(before, after):
        return _error(token, token, "spelling", "preposition_a_accent",
                      [_match_case(token.text, "à")])
    if word == "ou" and after is not None and _lower(after) in _PLACE_QUESTION_WORDS and (
            before is None or before.pos_ in ("VERB", "AUX") or is_finite_verb(_lower(before))):
        return _error(token, token, "spelling", "ou_accent",
                      [_match_case(token.text, "où")])
    return None


def _a_means_a_grave(before: Token, after: Token) -> bool:
    """ "a" right after a verb (not after its subject) is the preposition "à"."""
    word = _lower(before)
    if word in SUBJECT_PERSON or word in _NEGATION_AND_CLITICS or word in _ETRE_FORMS:
        return False
    if before.pos_ not in ("VERB", "AUX") or not is_finite_verb(word) and \
            not _looks_like_infinitive(before):
        return False
    two_before = _prev(before)
    if two_before is not None and _lower(two_before) in _DETERMINERS:
        return False  # "le livre a ...": "livre" is the subject noun
    if _is_participle(after):
        return False  # "ce que je veux a changé"
    return _lower(after) in _DETERMINERS or after.text[:1].isupper() or \
        _is_plural_number(after.text) or \
        _lower(after) in ("l'", "pied", "vélo", "midi", "minuit", "demain", "bientôt") or \
        _looks_like_infinitive(after)


def _misspelling(token: Token) -> GrammarError | None:
    text = token.text
    word = text.lower()
    if not _spellable(token) or _known(word):
        return None
    sentence_start = token.is_sent_start or token.i == 0
    if text[:1].isupper() and not sentence_start:
        return None  # proper nouns
    candidates = _spelling_candidates(word)
    if (sentence_start and text[:1].isupper()) or len(word) <= _SHORT_WORD:
        # Capitalised first words may be names and short unknown words are often slang
        # ("ordi", "nems"): only a missing accent is certain enough to report.
        candidates = [c for c in candidates if _strip_accents(c) == _strip_accents(word)]
    if not candidates:
        return None
    fixes = [_match_case(text, c) for c in candidates[:3]]
    return _error(token, token, "spelling", "spelling", fixes, fixed=fixes[0])


def _spellable(token: Token) -> bool:
    text = token.text
    if len(text) < 2 or token.like_num or text.isupper() and len(text) > 1:
        return False
    if "'" in text or "’" in text:
        return False
    parts = text.split("-")
    return all(p.isalpha() for p in parts)


def _known(word: str) -> bool:
    if word in _INFORMAL_WORDS or _is_word(word):
        return True
    if "oe" in word and _is_word(word.replace("oe", "œ")):
        return True
    if "-" in word:
        parts = [p for p in word.split("-") if p]
        if all(_is_word(p) or p in _INFORMAL_WORDS for p in parts):
            return True
    return bool(verb_readings(word)) or _is_participle_of_known_verb(word)


def _is_participle_of_known_verb(word: str) -> bool:
    """The word list lacks some participles ("pique-niqué"): accept them via the infinitive."""
    masculine = re.sub(r"(e|s|es)$", "", word) if word.endswith(("ée", "és", "ées")) else word
    if masculine.endswith("é"):
        return _is_word(masculine[:-1] + "er")
    return False


def _strip_accents(word: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_SHORT_WORD = 4
# Corrections must be common words: a rare neighbour ("ourdi" for "ordi") is more likely
# a coincidence than the word the learner meant.
_MIN_CANDIDATE_COUNT = 1000


def _spelling_candidates(word: str) -> list[str]:
    checker = _dictionary()
    found = {c for c in checker.candidates(word) or ()
             if c != word and (c.isalpha() or "-" in c)
             and checker[c] >= _MIN_CANDIDATE_COUNT and not _drops_an_accent(word, c)}
    same_letters = _strip_accents(word)
    return sorted(found, key=lambda c: (_strip_accents(c) != same_letters, -checker[c], c))


def _drops_an_accent(word: str, candidate: str) -> bool:
    """ "eût" -> "eut": learners forget accents; an extra one is a rare literary form."""
    return _strip_accents(word) == _strip_accents(candidate) and \
        len([c for c in word if c != _strip_accents(c)]) > \
        len([c for c in candidate if c != _strip_accents(c)])


# --------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------

# Earlier rules win when two errors overlap: the specific before the general.
RULES: tuple[Rule, ...] = (
    rule_elision,
    rule_contraction,
    rule_auxiliary,
    rule_regularized_participle,
    rule_word_order,
    rule_double_negation,
    rule_partitive_after_negation,
    rule_pronouns,
    rule_place_preposition,
    rule_jouer_preposition,
    rule_dependre_de,
    rule_chez_place,
    rule_subjunctive,
    rule_si_clause,
    rule_polite_conditional,
    rule_pronoun_subject_verb,
    rule_noun_subject_verb,
    rule_participle_or_infinitive,
    rule_noun_phrase_agreement,
    rule_predicate_agreement,
    rule_spelling,
)

# The typographic apostrophe and no-break spaces have one-character plain equivalents, so
# offsets in the normalised text are offsets in the original.
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u00a0": " ", "\u202f": " "})


def parse(text: str) -> Doc:
    """The message as spaCy reads it (tokens, tags, lemmas, dependencies)."""
    return _nlp()(text.translate(_TYPOGRAPHY))


def check_grammar(text: str, language: str = "fr", *, doc: Doc | None = None) -> GrammarResult:
    """Find learner errors in a French message; other languages get no feedback yet.
    Pass `doc` when the message is parsed already (`parse(text)`)."""
    if not text or not text.strip() or language.lower().split("-")[0] != "fr":
        return GrammarResult([], text)
    doc = doc if doc is not None else parse(text)
    errors = without_overlaps(error for rule in RULES for error in rule(doc))
    return GrammarResult(errors, apply_corrections(text, errors))


def without_overlaps(errors: Iterable[GrammarError]) -> list[GrammarError]:
    """The errors with a suggestion, minus any overlapping one listed before it, by start."""
    kept: list[GrammarError] = []
    for error in errors:
        if not error.suggestions:
            continue
        if all(error.end <= k.start or error.start >= k.end for k in kept):
            kept.append(error)
    return sorted(kept, key=lambda e: e.start)


def apply_corrections(text: str, errors: Iterable[GrammarError]) -> str:
    """Replace each error's span with its first suggestion, right to left."""
    corrected = text
    for error in sorted(errors, key=lambda e: e.start, reverse=True):
        if error.suggestions:
            corrected = corrected[: error.start] + error.suggestions[0] + corrected[error.end:]
    return corrected

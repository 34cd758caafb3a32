"""The grammar rules' messages, in the learner's native language.

A rule names its message by key and passes the words it quotes (`fixed`, `noun`...);
the sentence around them is chosen here. A learner whose native language has no
translation reads English. Each language uses its own quotation marks; the quoted words
stay French.
"""

from __future__ import annotations

import string
from typing import Mapping

from domain import languages

FALLBACK = "en"

MESSAGES: dict[str, dict[str, str]] = {
    # contraction_elision
    "elision": {
        "en": "“{word}” is shortened before a vowel sound: “{fixed}”.",
        "es": "«{word}» se apostrofa delante de un sonido vocálico: «{fixed}».",
        "de": "„{word}“ wird vor einem Vokal verkürzt: „{fixed}“.",
        "it": "«{word}» si elide davanti a un suono vocalico: «{fixed}».",
        "pt": "“{word}” perde a vogal diante de um som vocálico: “{fixed}”.",
    },
    "contraction": {
        "en": "“{words}” contracts to “{fixed}”.",
        "es": "«{words}» se contrae en «{fixed}».",
        "de": "„{words}“ wird zu „{fixed}“ zusammengezogen.",
        "it": "«{words}» si contrae in «{fixed}».",
        "pt": "A contração de “{words}” é “{fixed}”.",
    },
    # number_agreement and gender_agreement
    "plural_noun": {
        "en": "After “{determiner}” the noun is plural: “{fixed}”.",
        "es": "Después de «{determiner}» el sustantivo va en plural: «{fixed}».",
        "de": "Nach „{determiner}“ steht das Nomen im Plural: „{fixed}“.",
        "it": "Dopo «{determiner}» il nome va al plurale: «{fixed}».",
        "pt": "Depois de “{determiner}” o substantivo vai no plural: “{fixed}”.",
    },
    "plural_determiner": {
        "en": "“{noun}” is plural, so the determiner is too: “{fixed}”.",
        "es": "«{noun}» está en plural, así que el determinante también: «{fixed}».",
        "de": "„{noun}“ steht im Plural, also auch der Begleiter: „{fixed}“.",
        "it": "«{noun}» è plurale, quindi anche il determinante: «{fixed}».",
        "pt": "“{noun}” está no plural, então o determinante também: “{fixed}”.",
    },
    "noun_masculine": {
        "en": "“{noun}” is masculine: use “{fixed}”.",
        "es": "«{noun}» es masculino: usa «{fixed}».",
        "de": "„{noun}“ ist männlich: verwende „{fixed}“.",
        "it": "«{noun}» è maschile: usa «{fixed}».",
        "pt": "“{noun}” é masculino: use “{fixed}”.",
    },
    "noun_feminine": {
        "en": "“{noun}” is feminine: use “{fixed}”.",
        "es": "«{noun}» es femenino: usa «{fixed}».",
        "de": "„{noun}“ ist weiblich: verwende „{fixed}“.",
        "it": "«{noun}» è femminile: usa «{fixed}».",
        "pt": "“{noun}” é feminino: use “{fixed}”.",
    },
    "adjective_agreement": {
        "en": "“{adjective}” must agree with “{noun}”: “{fixed}”.",
        "es": "«{adjective}» debe concordar con «{noun}»: «{fixed}».",
        "de": "„{adjective}“ muss sich nach „{noun}“ richten: „{fixed}“.",
        "it": "«{adjective}» deve concordare con «{noun}»: «{fixed}».",
        "pt": "“{adjective}” deve concordar com “{noun}”: “{fixed}”.",
    },
    # past_participle
    "participle_agreement": {
        "en": "With “être” the participle agrees with “{subject}”: “{fixed}”.",
        "es": "Con «être» el participio concuerda con «{subject}»: «{fixed}».",
        "de": "Mit „être“ richtet sich das Partizip nach „{subject}“: „{fixed}“.",
        "it": "Con «être» il participio concorda con «{subject}»: «{fixed}».",
        "pt": "Com “être” o particípio concorda com “{subject}”: “{fixed}”.",
    },
    "participle_preceding_object": {
        "en": "With “avoir” the participle agrees with a direct object placed before it, “{object}”: “{fixed}”.",
        "es": "Con «avoir» el participio concuerda con el complemento directo que va antes, «{object}»: «{fixed}».",
        "de": "Mit „avoir“ richtet sich das Partizip nach dem vorangestellten direkten Objekt „{object}“: „{fixed}“.",
        "it": "Con «avoir» il participio concorda con il complemento oggetto che lo precede, «{object}»: «{fixed}».",
        "pt": "Com “avoir” o particípio concorda com o complemento direto que vem antes, “{object}”: “{fixed}”.",
    },
    "participle_with_avoir": {
        "en": "With “avoir” the participle does not agree with the subject: “{fixed}”.",
        "es": "Con «avoir» el participio no concuerda con el sujeto: «{fixed}».",
        "de": "Mit „avoir“ richtet sich das Partizip nicht nach dem Subjekt: „{fixed}“.",
        "it": "Con «avoir» il participio non si accorda con il soggetto: «{fixed}».",
        "pt": "Com “avoir” o particípio não concorda com o sujeito: “{fixed}”.",
    },
    "pronominal_with_object": {
        "en": "The direct object comes after the verb, so the participle does not agree: “{fixed}”.",
        "es": "El complemento directo va después del verbo: el participio no concuerda: «{fixed}».",
        "de": "Das direkte Objekt folgt dem Verb, also keine Angleichung: „{fixed}“.",
        "it": "Il complemento oggetto segue il verbo, quindi il participio non si accorda: «{fixed}».",
        "pt": "O objeto direto vem depois do verbo, então o particípio não concorda: “{fixed}”.",
    },
    "participle_after_auxiliary": {
        "en": "After “{auxiliary}” use the past participle “{fixed}”.",
        "es": "Después de «{auxiliary}» va el participio pasado «{fixed}».",
        "de": "Nach „{auxiliary}“ steht das Partizip „{fixed}“.",
        "it": "Dopo «{auxiliary}» usa il participio passato «{fixed}».",
        "pt": "Depois de “{auxiliary}” use o particípio passado “{fixed}”.",
    },
    "infinitive_after_verb": {
        "en": "After “{verb}” use the infinitive “{fixed}”.",
        "es": "Después de «{verb}» va el infinitivo «{fixed}».",
        "de": "Nach „{verb}“ steht der Infinitiv „{fixed}“.",
        "it": "Dopo «{verb}» usa l'infinito «{fixed}».",
        "pt": "Depois de “{verb}” use o infinitivo “{fixed}”.",
    },
    "irregular_participle": {
        "en": "The past participle of this verb is irregular: “{fixed}”.",
        "es": "El participio pasado de este verbo es irregular: «{fixed}».",
        "de": "Das Partizip dieses Verbs ist unregelmäßig: „{fixed}“.",
        "it": "Il participio passato di questo verbo è irregolare: «{fixed}».",
        "pt": "O particípio passado deste verbo é irregular: “{fixed}”.",
    },
    # subject_verb
    "verb_after_pronoun": {
        "en": "With “{subject}” the verb is “{fixed}”.",
        "es": "Con «{subject}» el verbo es «{fixed}».",
        "de": "Mit „{subject}“ heißt das Verb „{fixed}“.",
        "it": "Con «{subject}» il verbo è «{fixed}».",
        "pt": "Com “{subject}” o verbo é “{fixed}”.",
    },
    "verb_after_noun": {
        "en": "The subject “{subject}” needs “{fixed}”.",
        "es": "El sujeto «{subject}» necesita «{fixed}».",
        "de": "Das Subjekt „{subject}“ verlangt „{fixed}“.",
        "it": "Il soggetto «{subject}» richiede «{fixed}».",
        "pt": "O sujeito “{subject}” pede “{fixed}”.",
    },
    # auxiliary
    "reflexive_takes_etre": {
        "en": "Reflexive verbs use “être” in compound tenses.",
        "es": "Los verbos pronominales usan «être» en los tiempos compuestos.",
        "de": "Reflexive Verben bilden die zusammengesetzten Zeiten mit „être“.",
        "it": "I verbi riflessivi usano «être» nei tempi composti.",
        "pt": "Os verbos pronominais usam “être” nos tempos compostos.",
    },
    "verb_takes_avoir": {
        "en": "This verb has a direct object, so its auxiliary is “avoir”: “{fixed}”.",
        "es": "Este verbo tiene complemento directo: su auxiliar es «avoir»: «{fixed}».",
        "de": "Dieses Verb hat ein direktes Objekt, also ist das Hilfsverb „avoir“: „{fixed}“.",
        "it": "Questo verbo ha un complemento oggetto: l'ausiliare è «avoir»: «{fixed}».",
        "pt": "Este verbo tem objeto direto, então o auxiliar é “avoir”: “{fixed}”.",
    },
    "verb_takes_etre": {
        "en": "This verb takes “être”: “{fixed}”.",
        "es": "Este verbo se conjuga con «être»: «{fixed}».",
        "de": "Dieses Verb bildet das Perfekt mit „être“: „{fixed}“.",
        "it": "Questo verbo vuole l'ausiliare «être»: «{fixed}».",
        "pt": "Este verbo usa o auxiliar “être”: “{fixed}”.",
    },
    # negation
    "pas_with_negative": {
        "en": "“pas” and “{negative}” do not combine: use “{negative}” alone.",
        "es": "«pas» y «{negative}» no se combinan: usa solo «{negative}».",
        "de": "„pas“ und „{negative}“ werden nicht kombiniert: nur „{negative}“.",
        "it": "«pas» e «{negative}» non si combinano: usa solo «{negative}».",
        "pt": "“pas” e “{negative}” não se combinam: use só “{negative}”.",
    },
    "article_after_negation": {
        "en": "After a negation “{words}” becomes “{fixed}”.",
        "es": "Después de una negación, «{words}» se convierte en «{fixed}».",
        "de": "Nach einer Verneinung wird „{words}“ zu „{fixed}“.",
        "it": "Dopo una negazione «{words}» diventa «{fixed}».",
        "pt": "Depois de uma negação, “{words}” passa a ser “{fixed}”.",
    },
    # pronoun
    "stressed_pronoun": {
        "en": "After “{word}” use the stressed pronoun “{fixed}”.",
        "es": "Después de «{word}» va el pronombre tónico «{fixed}».",
        "de": "Nach „{word}“ steht das betonte Pronomen „{fixed}“.",
        "it": "Dopo «{word}» usa il pronome tonico «{fixed}».",
        "pt": "Depois de “{word}” use o pronome tônico “{fixed}”.",
    },
    "reflexive_person": {
        "en": "The reflexive pronoun matches “{subject}”: “{fixed}”.",
        "es": "El pronombre reflexivo concuerda con «{subject}»: «{fixed}».",
        "de": "Das Reflexivpronomen richtet sich nach „{subject}“: „{fixed}“.",
        "it": "Il pronome riflessivo concorda con «{subject}»: «{fixed}».",
        "pt": "O pronome reflexivo concorda com “{subject}”: “{fixed}”.",
    },
    "relative_qui": {
        "en": "Here the relative pronoun is the subject of the verb: “qui”.",
        "es": "Aquí el pronombre relativo es el sujeto del verbo: «qui».",
        "de": "Hier ist das Relativpronomen Subjekt des Verbs: „qui“.",
        "it": "Qui il pronome relativo è il soggetto del verbo: «qui».",
        "pt": "Aqui o pronome relativo é o sujeito do verbo: “qui”.",
    },
    "relative_que": {
        "en": "Here the relative pronoun is the object: “que”.",
        "es": "Aquí el pronombre relativo es el complemento directo: «que».",
        "de": "Hier ist das Relativpronomen Objekt: „que“.",
        "it": "Qui il pronome relativo è complemento oggetto: «que».",
        "pt": "Aqui o pronome relativo é o objeto: “que”.",
    },
    "indirect_object": {
        "en": "This verb takes an indirect object: “{fixed}”.",
        "es": "Este verbo lleva complemento indirecto: «{fixed}».",
        "de": "Dieses Verb hat ein indirektes Objekt: „{fixed}“.",
        "it": "Questo verbo regge un complemento indiretto: «{fixed}».",
        "pt": "Este verbo pede objeto indireto: “{fixed}”.",
    },
    "direct_object": {
        "en": "This verb takes a direct object: “{fixed}”.",
        "es": "Este verbo lleva complemento directo: «{fixed}».",
        "de": "Dieses Verb hat ein direktes Objekt: „{fixed}“.",
        "it": "Questo verbo regge un complemento oggetto: «{fixed}».",
        "pt": "Este verbo pede objeto direto: “{fixed}”.",
    },
    "quantity_is_en": {
        "en": "A quantity without its noun is taken up by “en”.",
        "es": "Una cantidad sin su sustantivo se retoma con «en».",
        "de": "Eine Menge ohne ihr Nomen wird mit „en“ aufgenommen.",
        "it": "Una quantità senza il suo nome si riprende con «en».",
        "pt": "Uma quantidade sem o seu substantivo é retomada por “en”.",
    },
    "relative_dont": {
        "en": "This verb is built with “de”: the relative pronoun is “dont”.",
        "es": "Este verbo se construye con «de»: el relativo es «dont».",
        "de": "Dieses Verb steht mit „de“: das Relativpronomen ist „dont“.",
        "it": "Questo verbo si costruisce con «de»: il relativo è «dont».",
        "pt": "Este verbo se constrói com “de”: o relativo é “dont”.",
    },
    "pronoun_before_auxiliary": {
        "en": "In a compound tense the object pronoun comes before the auxiliary: “{fixed}”.",
        "es": "En un tiempo compuesto el pronombre va antes del auxiliar: «{fixed}».",
        "de": "In zusammengesetzten Zeiten steht das Pronomen vor dem Hilfsverb: „{fixed}“.",
        "it": "Nei tempi composti il pronome va prima dell'ausiliare: «{fixed}».",
        "pt": "Nos tempos compostos o pronome vem antes do auxiliar: “{fixed}”.",
    },
    "indirect_question_order": {
        "en": "An indirect question keeps the order subject, verb: “{fixed}”.",
        "es": "Una pregunta indirecta mantiene el orden sujeto, verbo: «{fixed}».",
        "de": "Eine indirekte Frage behält die Reihenfolge Subjekt, Verb: „{fixed}“.",
        "it": "Una domanda indiretta mantiene l'ordine soggetto, verbo: «{fixed}».",
        "pt": "Uma pergunta indireta mantém a ordem sujeito, verbo: “{fixed}”.",
    },
    "leur_pronoun": {
        "en": "The pronoun “leur” (to them) never takes an s.",
        "es": "El pronombre «leur» (les) nunca lleva s.",
        "de": "Das Pronomen „leur“ (ihnen) hat nie ein s.",
        "it": "Il pronome «leur» (a loro) non prende mai la s.",
        "pt": "O pronome “leur” (lhes) nunca leva s.",
    },
    "pronoun_gender": {
        "en": "The pronoun takes the gender of the noun it stands for: “{fixed}”.",
        "es": "El pronombre toma el género del sustantivo al que sustituye: «{fixed}».",
        "de": "Das Pronomen richtet sich nach dem Genus des ersetzten Nomens: „{fixed}“.",
        "it": "Il pronome prende il genere del nome che sostituisce: «{fixed}».",
        "pt": "O pronome toma o gênero do substantivo que substitui: “{fixed}”.",
    },
    "relative_pronoun_agreement": {
        "en": "“lequel” takes the gender and number of the noun it stands for: “{fixed}”.",
        "es": "«lequel» concuerda en género y número con el sustantivo al que sustituye: «{fixed}».",
        "de": "„lequel“ richtet sich in Genus und Numerus nach dem ersetzten Nomen: „{fixed}“.",
        "it": "«lequel» prende il genere e il numero del nome che sostituisce: «{fixed}».",
        "pt": "“lequel” concorda em gênero e número com o substantivo que substitui: “{fixed}”.",
    },
    "tout_ce_que": {
        "en": "After “tout”, the relative pronoun needs “ce”: “{fixed}”.",
        "es": "Después de «tout», el pronombre relativo necesita «ce»: «{fixed}».",
        "de": "Nach „tout“ braucht das Relativpronomen „ce“: „{fixed}“.",
        "it": "Dopo «tout», il pronome relativo vuole «ce»: «{fixed}».",
        "pt": "Depois de “tout”, o pronome relativo precisa de “ce”: “{fixed}”.",
    },
    "imperative_stressed_pronoun": {
        "en": "After an imperative, “me” and “te” become “moi” and “toi”: “{fixed}”.",
        "es": "Después de un imperativo, «me» y «te» se convierten en «moi» y «toi»: «{fixed}».",
        "de": "Nach einem Imperativ werden „me“ und „te“ zu „moi“ und „toi“: „{fixed}“.",
        "it": "Dopo un imperativo, «me» e «te» diventano «moi» e «toi»: «{fixed}».",
        "pt": "Depois de um imperativo, “me” e “te” viram “moi” e “toi”: “{fixed}”.",
    },
    "imperative_pronoun_order": {
        "en": "After an imperative, the direct object pronoun comes first: “{fixed}”.",
        "es": "Después de un imperativo, el pronombre de objeto directo va primero: «{fixed}».",
        "de": "Nach einem Imperativ steht das direkte Objektpronomen zuerst: „{fixed}“.",
        "it": "Dopo un imperativo, il pronome complemento oggetto viene per primo: «{fixed}».",
        "pt": "Depois de um imperativo, o pronome objeto direto vem primeiro: “{fixed}”.",
    },
    "de_takes_en": {
        "en": "This verb is built with “de”: a thing it speaks of is taken up by “en”.",
        "es": "Este verbo se construye con «de»: la cosa se retoma con «en».",
        "de": "Dieses Verb wird mit „de“ gebildet: eine Sache wird mit „en“ aufgenommen.",
        "it": "Questo verbo si costruisce con «de»: la cosa si riprende con «en».",
        "pt": "Este verbo se constrói com “de”: a coisa é retomada por “en”.",
    },
    "a_takes_y": {
        "en": "This verb is built with “à”: a thing it speaks of is taken up by “y”.",
        "es": "Este verbo se construye con «à»: la cosa se retoma con «y».",
        "de": "Dieses Verb wird mit „à“ gebildet: eine Sache wird mit „y“ aufgenommen.",
        "it": "Questo verbo si costruisce con «à»: la cosa si riprende con «y».",
        "pt": "Este verbo se constrói com “à”: a coisa é retomada por “y”.",
    },
    "unstressed_object": {
        "en": "Before the verb the object pronoun is “{fixed}”.",
        "es": "Delante del verbo el pronombre complemento es «{fixed}».",
        "de": "Vor dem Verb lautet das Objektpronomen „{fixed}“.",
        "it": "Davanti al verbo il pronome complemento è «{fixed}».",
        "pt": "Antes do verbo o pronome objeto é “{fixed}”.",
    },
    "missing_reflexive": {
        "en": "Without an object this verb is pronominal: “{fixed}”.",
        "es": "Sin complemento este verbo es pronominal: «{fixed}».",
        "de": "Ohne Objekt ist dieses Verb reflexiv: „{fixed}“.",
        "it": "Senza complemento questo verbo è pronominale: «{fixed}».",
        "pt": "Sem objeto este verbo é pronominal: “{fixed}”.",
    },
    "relative_ou": {
        "en": "This verb has no direct object: for a place or a time the relative pronoun is “où”.",
        "es": "Este verbo no lleva complemento directo: para un lugar o un tiempo el relativo es «où».",
        "de": "Dieses Verb hat kein direktes Objekt: für Ort oder Zeit ist das Relativpronomen „où“.",
        "it": "Questo verbo non ha complemento oggetto: per un luogo o un tempo il relativo è «où».",
        "pt": "Este verbo não tem objeto direto: para um lugar ou um tempo o relativo é “où”.",
    },
    "definite_after_liking": {
        "en": "A verb of liking keeps the definite article, even negated: “{fixed}”.",
        "es": "Un verbo de gusto conserva el artículo definido, incluso negado: «{fixed}».",
        "de": "Ein Verb des Mögens behält den bestimmten Artikel, auch verneint: „{fixed}“.",
        "it": "Un verbo di gradimento mantiene l'articolo determinativo, anche negato: «{fixed}».",
        "pt": "Um verbo de gosto mantém o artigo definido, mesmo negado: “{fixed}”.",
    },
    "adjective_before_noun": {
        "en": "“{adjective}” comes before the noun: “{fixed}”.",
        "es": "«{adjective}» va delante del sustantivo: «{fixed}».",
        "de": "„{adjective}“ steht vor dem Nomen: „{fixed}“.",
        "it": "«{adjective}» va prima del nome: «{fixed}».",
        "pt": "“{adjective}” vem antes do substantivo: “{fixed}”.",
    },
    "duration_preposition": {
        "en": "For how long it has lasted (or lasted), French says “{fixed}”, not “pour”.",
        "es": "Para lo que dura (o duró), el francés dice «{fixed}», no «pour».",
        "de": "Für die Dauer bis jetzt (oder eine vergangene) sagt man „{fixed}“, nicht „pour“.",
        "it": "Per quanto dura (o è durato), il francese dice «{fixed}», non «pour».",
        "pt": "Para quanto dura (ou durou), o francês diz “{fixed}”, não “pour”.",
    },
    "thought_takes_y": {
        "en": "“penser à” takes “y” for a thing (“à lui” after the verb for a person): “{fixed}”.",
        "es": "«penser à» lleva «y» para una cosa («à lui» tras el verbo para una persona): «{fixed}».",
        "de": "„penser à“ nimmt „y“ für eine Sache („à lui“ nach dem Verb für eine Person): „{fixed}“.",
        "it": "«penser à» vuole «y» per una cosa («à lui» dopo il verbo per una persona): «{fixed}».",
        "pt": "“penser à” leva “y” para uma coisa (“à lui” depois do verbo para uma pessoa): “{fixed}”.",
    },
    "place_is_y": {
        "en": "A place is replaced by “y”, not “en”.",
        "es": "Un lugar se sustituye por «y», no por «en».",
        "de": "Ein Ort wird durch „y“ ersetzt, nicht durch „en“.",
        "it": "Un luogo si sostituisce con «y», non con «en».",
        "pt": "Um lugar é substituído por “y”, não por “en”.",
    },
    "indirect_question": {
        "en": "An indirect question uses “ce que”.",
        "es": "Una pregunta indirecta usa «ce que».",
        "de": "Eine indirekte Frage verwendet „ce que“.",
        "it": "Una domanda indiretta usa «ce que».",
        "pt": "Uma pergunta indireta usa “ce que”.",
    },
    # word_order
    "ne_before_pronoun": {
        "en": "“ne” comes before the object pronoun.",
        "es": "«ne» va delante del pronombre complemento.",
        "de": "„ne“ steht vor dem Objektpronomen.",
        "it": "«ne» va prima del pronome complemento.",
        "pt": "“ne” vem antes do pronome objeto.",
    },
    "pronoun_order": {
        "en": "Object pronouns go in the order me/te/se, le/la/les, lui/leur, y, en.",
        "es": "Los pronombres complemento van en el orden me/te/se, le/la/les, lui/leur, y, en.",
        "de": "Objektpronomen stehen in der Reihenfolge me/te/se, le/la/les, lui/leur, y, en.",
        "it": "I pronomi complemento seguono l'ordine me/te/se, le/la/les, lui/leur, y, en.",
        "pt": "Os pronomes objeto seguem a ordem me/te/se, le/la/les, lui/leur, y, en.",
    },
    "adjective_after_noun": {
        "en": "“{adjective}” goes after the noun: “{fixed}”.",
        "es": "«{adjective}» va después del sustantivo: «{fixed}».",
        "de": "„{adjective}“ steht nach dem Nomen: „{fixed}“.",
        "it": "«{adjective}» va dopo il nome: «{fixed}».",
        "pt": "“{adjective}” vem depois do substantivo: “{fixed}”.",
    },
    "pronoun_before_verb": {
        "en": "The object pronoun goes before the verb: “{fixed}”.",
        "es": "El pronombre complemento va delante del verbo: «{fixed}».",
        "de": "Das Objektpronomen steht vor dem Verb: „{fixed}“.",
        "it": "Il pronome complemento va prima del verbo: «{fixed}».",
        "pt": "O pronome objeto vem antes do verbo: “{fixed}”.",
    },
    "present_with_depuis": {
        "en": "With “depuis”, what is still going on is in the present: “{fixed}”.",
        "es": "Con «depuis», lo que sigue ocurriendo va en presente: «{fixed}».",
        "de": "Mit „depuis“ steht, was noch andauert, im Präsens: „{fixed}“.",
        "it": "Con «depuis», ciò che dura ancora va al presente: «{fixed}».",
        "pt": "Com “depuis”, o que ainda continua fica no presente: “{fixed}”.",
    },
    "negation_placement": {
        "en": "“ne” and “pas” go around the conjugated verb (together before an infinitive): “{fixed}”.",
        "es": "«ne» y «pas» rodean el verbo conjugado (juntos delante de un infinitivo): «{fixed}».",
        "de": "„ne“ und „pas“ umschließen das konjugierte Verb (vor einem Infinitiv stehen beide davor): „{fixed}“.",
        "it": "«ne» e «pas» racchiudono il verbo coniugato (insieme davanti a un infinito): «{fixed}».",
        "pt": "“ne” e “pas” cercam o verbo conjugado (juntos antes de um infinitivo): “{fixed}”.",
    },
    "adverb_after_verb": {
        "en": "The adverb goes right after the verb: “{fixed}”.",
        "es": "El adverbio va justo después del verbo: «{fixed}».",
        "de": "Das Adverb steht direkt nach dem Verb: „{fixed}“.",
        "it": "L'avverbio va subito dopo il verbo: «{fixed}».",
        "pt": "O advérbio vem logo depois do verbo: “{fixed}”.",
    },
    "adverb_before_participle": {
        "en": "The adverb goes before the participle: “{fixed}”.",
        "es": "El adverbio va delante del participio: «{fixed}».",
        "de": "Das Adverb steht vor dem Partizip: „{fixed}“.",
        "it": "L'avverbio va prima del participio: «{fixed}».",
        "pt": "O advérbio vem antes do particípio: “{fixed}”.",
    },
    # tense_mood
    "subjunctive_after_conjunction": {
        "en": "This conjunction requires the subjunctive: “{fixed}”.",
        "es": "Esta conjunción exige el subjuntivo: «{fixed}».",
        "de": "Diese Konjunktion verlangt den Subjonctif: „{fixed}“.",
        "it": "Questa congiunzione richiede il congiuntivo: «{fixed}».",
        "pt": "Esta conjunção exige o subjuntivo: “{fixed}”.",
    },
    "tense_after_si": {
        "en": "After “si” (if) use the present or imperfect: “{fixed}”.",
        "es": "Después de «si» (condicional) va el presente o el imperfecto: «{fixed}».",
        "de": "Nach „si“ (wenn) steht Präsens oder Imparfait: „{fixed}“.",
        "it": "Dopo «si» (se) usa il presente o l'imperfetto: «{fixed}».",
        "pt": "Depois de “si” (se) use o presente ou o imperfeito: “{fixed}”.",
    },
    "conditional_after_si": {
        "en": "After “si” + imperfect, the main clause takes the conditional: “{fixed}”.",
        "es": "Tras «si» + imperfecto, la oración principal va en condicional: «{fixed}».",
        "de": "Nach „si“ + Imperfekt steht der Hauptsatz im Konditional: „{fixed}“.",
        "it": "Dopo «si» + imperfetto, la principale va al condizionale: «{fixed}».",
        "pt": "Depois de “si” + imperfeito, a oração principal vai no condicional: “{fixed}”.",
    },
    "indicative_after_opinion": {
        "en": "An affirmed opinion or certainty takes the indicative: “{fixed}”.",
        "es": "Una opinión o certeza afirmada va en indicativo: «{fixed}».",
        "de": "Eine bejahte Meinung oder Gewissheit steht im Indikativ: „{fixed}“.",
        "it": "Un'opinione o una certezza affermata vuole l'indicativo: «{fixed}».",
        "pt": "Uma opinião ou certeza afirmada pede o indicativo: “{fixed}”.",
    },
    "past_after_marker": {
        "en": "The sentence is about the past: “{fixed}”.",
        "es": "La frase habla del pasado: «{fixed}».",
        "de": "Der Satz spricht von der Vergangenheit: „{fixed}“.",
        "it": "La frase parla del passato: «{fixed}».",
        "pt": "A frase fala do passado: “{fixed}”.",
    },
    "present_after_future_marker": {
        "en": "The sentence is about the future: “{fixed}”.",
        "es": "La frase habla del futuro: «{fixed}».",
        "de": "Der Satz spricht von der Zukunft: „{fixed}“.",
        "it": "La frase parla del futuro: «{fixed}».",
        "pt": "A frase fala do futuro: “{fixed}”.",
    },
    "polite_conditional": {
        "en": "A polite request uses the conditional: “{fixed}”.",
        "es": "Una petición cortés usa el condicional: «{fixed}».",
        "de": "Eine höfliche Bitte steht im Konditional: „{fixed}“.",
        "it": "Una richiesta cortese usa il condizionale: «{fixed}».",
        "pt": "Um pedido educado usa o condicional: “{fixed}”.",
    },
    # preposition
    "preposition_before_place": {
        "en": "Before “{place}” use “{fixed}”.",
        "es": "Delante de «{place}» usa «{fixed}».",
        "de": "Vor „{place}“ steht „{fixed}“.",
        "it": "Davanti a «{place}» usa «{fixed}».",
        "pt": "Antes de “{place}” use “{fixed}”.",
    },
    "jouer_preposition": {
        "en": "“jouer {fixed}” for this activity: “{fixed} {thing}”.",
        "es": "«jouer {fixed}» para esta actividad: «{fixed} {thing}».",
        "de": "„jouer {fixed}“ bei dieser Tätigkeit: „{fixed} {thing}“.",
        "it": "«jouer {fixed}» per questa attività: «{fixed} {thing}».",
        "pt": "“jouer {fixed}” para esta atividade: “{fixed} {thing}”.",
    },
    "governed_preposition": {
        "en": "“{head}” takes “{fixed}”.",
        "es": "«{head}» se construye con «{fixed}».",
        "de": "„{head}“ wird mit „{fixed}“ verbunden.",
        "it": "«{head}» vuole «{fixed}».",
        "pt": "“{head}” pede “{fixed}”.",
    },
    "dependre_de": {
        "en": "“dépendre” takes “de”.",
        "es": "«dépendre» se construye con «de».",
        "de": "„dépendre“ wird mit „de“ verbunden.",
        "it": "«dépendre» vuole «de».",
        "pt": "“dépendre” pede “de”.",
    },
    "chez_is_for_people": {
        "en": "“chez” is for people; use “à”.",
        "es": "«chez» es para personas; usa «à».",
        "de": "„chez“ steht bei Personen; hier „à“.",
        "it": "«chez» si usa per le persone; usa «à».",
        "pt": "“chez” é para pessoas; use “à”.",
    },
    # spelling
    "preposition_a_accent": {
        "en": "The preposition is written “à”.",
        "es": "La preposición se escribe «à».",
        "de": "Die Präposition schreibt man „à“.",
        "it": "La preposizione si scrive «à».",
        "pt": "A preposição se escreve “à”, com acento.",
    },
    "ou_accent": {
        "en": "“où” (where) takes an accent.",
        "es": "«où» (dónde) lleva acento.",
        "de": "„où“ (wo) hat einen Akzent.",
        "it": "«où» (dove) vuole l'accento.",
        "pt": "“où” (onde) tem acento.",
    },
    "spelling": {
        "en": "Spelling: “{fixed}”.",
        "es": "Ortografía: «{fixed}».",
        "de": "Rechtschreibung: „{fixed}“.",
        "it": "Ortografia: «{fixed}».",
        "pt": "Ortografia: “{fixed}”.",
    },
}

LANGUAGES = tuple(MESSAGES["spelling"])


def message_language(native_language: str | None) -> str:
    """The catalogue language for a learner: "pt-BR" and "PT" read Portuguese; a language
    without translations (or none given) reads English."""
    code = (native_language or "").replace("_", "-").split("-")[0].strip().lower()
    return code if code in LANGUAGES else FALLBACK


def language_name(native_language: str | None) -> str:
    """The language a model is asked to explain in, so its messages read like ours."""
    return languages.NAMES[message_language(native_language)]


def render(key: str, params: Mapping[str, str], native_language: str | None = None) -> str:
    return MESSAGES[key][message_language(native_language)].format_map(params)


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}

"""Builds fr_errors_second.jsonl, the second labelled set, from second_set_sentences.txt.

    python tests/data/make_second_set.py          # rewrites tests/data/fr_errors_second.jsonl
    python tests/data/make_second_set.py --check  # fails if the frozen file differs

Each base line is a correct sentence with slots `[correct|category]` or
`[correct|category|wrong]`. Without an explicit wrong form, the wrong form is made by the
category's transformation below (one per category, written from the kind of error, not
per sentence). From every base sentence the script makes one item per slot (that one
error injected), one item with every slot injected when there are two or more, and, for
every second base sentence, the correct sentence itself. Deterministic: no randomness
except a fixed-seed shuffle of the item order.
"""
from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "second_set_sentences.txt"
TARGET = HERE / "fr_errors_second.jsonl"
SLOT = re.compile(r"\[([^\]|]+)\|([a-z_]+)(?:\|([^\]]+))?\]")

AUX = {"suis": "ai", "es": "as", "est": "a", "sommes": "avons", "êtes": "avez", "sont": "ont"}
AUX.update({v: k for k, v in list(AUX.items())})
DET = {"le": "la", "un": "une", "mon": "ma", "ton": "ta", "son": "sa", "ce": "cette"}
DET.update({v: k for k, v in list(DET.items())})
CONTRACTED = {"au": "à le", "aux": "à les", "du": "de le", "des": "de les"}
ELIDED = {"j": "je", "l": "le", "d": "de", "m": "me", "t": "te", "s": "se", "n": "ne", "qu": "que", "c": "ce"}


def keep_case(original: str, new: str) -> str:
    return new[:1].upper() + new[1:] if original[:1].isupper() else new


def auxiliary(word: str) -> str:
    """être <-> avoir in the same person."""
    return AUX[word]


def contraction_elision(word: str) -> str:
    """Undo the contraction (au -> à le) or the elision (j'ai -> je ai)."""
    low = word.lower()
    if low in CONTRACTED:
        return keep_case(word, CONTRACTED[low])
    head, _, rest = low.partition("'")
    return keep_case(word, f"{ELIDED[head]} {rest}")


def gender_agreement(word: str) -> str:
    """Swap a determiner's gender; a feminine adjective loses its feminine ending, a
    masculine one gains an -e."""
    low = word.lower()
    if low in DET:
        return keep_case(word, DET[low])
    plural = "s" if low.endswith("s") and len(low) > 3 else ""
    stem = low[:-1] if plural else low
    for fem, masc in (("elle", "el"), ("euse", "eux"), ("ive", "if"), ("ette", "et"), ("ille", "il"), ("e", "")):
        if stem.endswith(fem) and not stem.endswith("ble"):
            return stem[: -len(fem)] + masc + plural
    return stem + "e" + plural


def number_agreement(word: str) -> str:
    """A plural noun or adjective loses its plural mark."""
    assert word[-1] in "sx", word
    return word[:-1]


def past_participle(word: str) -> str:
    """An agreed participle loses its agreement; a bare one gains an -e."""
    for ending in ("es", "e", "s"):
        if word.endswith(ending) and len(word) > 3:
            return word[: -len(ending)]
    return word + "e"


def spelling(word: str) -> str:
    """The first double consonant is written single; else the first accent is dropped."""
    match = re.search(r"([bcdfglmnprst])\1", word)
    if match:
        return word[: match.start()] + word[match.end() - 1:]
    for i, ch in enumerate(word):
        bare = unicodedata.normalize("NFD", ch)[0]
        if bare != ch:
            return word[:i] + bare + word[i + 1:]
    raise ValueError(word)


def subject_verb(word: str) -> str:
    """A plural ending becomes the singular -e; a singular -e gains the -s of tu."""
    for ending, other in (("ent", "e"), ("ons", "e"), ("e", "es")):
        if word.endswith(ending):
            return word[: -len(ending)] + other
    raise ValueError(word)


TRANSFORMS = {f.__name__: f for f in (auxiliary, contraction_elision, gender_agreement,
                                      number_agreement, past_participle, spelling, subject_verb)}


def render(line: str, inject: set[int]) -> tuple[str, list[dict]]:
    """The sentence with the slots in `inject` made wrong, and their labels."""
    out, errors, pos = [], [], 0
    for n, match in enumerate(SLOT.finditer(line)):
        out.append(line[pos:match.start()])
        correct, category, wrong = match.groups()
        if n in inject:
            wrong = wrong or TRANSFORMS[category](correct)
            assert wrong != correct, line
            start = sum(map(len, out))
            errors.append({"start": start, "end": start + len(wrong), "wrong": wrong,
                           "correction": correct, "category": category})
            out.append(wrong)
        else:
            out.append(correct)
        pos = match.end()
    out.append(line[pos:])
    return "".join(out), errors


def build() -> list[dict]:
    items = []
    bases = [line.split("\t", 1) for line in SOURCE.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    for index, (level, line) in enumerate(bases):
        slots = len(SLOT.findall(line))
        variants = [{n} for n in range(slots)]
        if slots >= 2:
            variants.append(set(range(slots)))
        if index % 2 == 0 or slots == 0:
            variants.insert(0, set())
        for inject in variants:
            text, errors = render(line, inject)
            for error in errors:
                assert text[error["start"]:error["end"]] == error["wrong"]
            items.append({"text": text, "level": level, "errors": errors})
    random.Random(18).shuffle(items)
    for n, item in enumerate(items, 1):
        item["id"] = f"s2-{n:03d}"
    return [{"id": i["id"], "text": i["text"], "level": i["level"], "errors": i["errors"]} for i in items]


def main() -> None:
    text = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in build())
    if "--check" in sys.argv:
        frozen = TARGET.read_text(encoding="utf-8")
        sys.exit(0 if frozen == text else "fr_errors_second.jsonl is not the generator's output")
    TARGET.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

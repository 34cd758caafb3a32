"""The one list of CEFR levels, their spellings and bands."""
import pytest

from domain import cefr


def test_six_levels_easiest_first_in_both_spellings():
    assert cefr.LEVELS == ("A1", "A2", "B1", "B2", "C1", "C2")
    assert cefr.NORMALIZED_LEVELS == ("a1", "a2", "b1", "b2", "c1", "c2")
    assert set(cefr.ACCEPTED_LEVELS) == set(cefr.LEVELS) | set(cefr.NORMALIZED_LEVELS)


@pytest.mark.parametrize("given, expected", [("A1", "a1"), (" b2 ", "b2"), ("c2", "c2"), ("C1\n", "c1")])
def test_normalize_level(given, expected):
    assert cefr.normalize_level(given) == expected


@pytest.mark.parametrize("given", ["", "A0", "D1", "B", "beginner", "a1a2"])
def test_anything_else_is_a_caller_bug(given):
    with pytest.raises(ValueError, match="unknown CEFR level"):
        cefr.normalize_level(given)


def test_every_level_has_a_band_and_bands_pair_neighbouring_levels():
    assert set(cefr.BANDS) == set(cefr.NORMALIZED_LEVELS)
    assert cefr.BAND_ORDER == ("a1a2", "b1b2", "c1c2")
    for level, band in cefr.BANDS.items():
        assert level in (band[:2], band[2:])

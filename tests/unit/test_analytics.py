"""The CEFR estimate's rule and the analytics' windows (pure functions)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from domain import analytics


def estimate(coverage, errors=0, words=0):
    return analytics.estimate_level(coverage, errors=errors, words=words, known_stability=21.0)


def test_the_estimate_is_the_highest_band_with_enough_coverage():
    found = estimate({"A1": (90, 100), "A2": (30, 50), "B1": (70, 100), "B2": (10, 100)})
    assert found["level"] == "B1" and not found["lowered_for_errors"]
    bands = {band["band"]: band for band in found["inputs"]["bands"]}
    assert bands["A2"]["coverage"] == 0.6 and bands["C2"] == {"band": "C2", "known": 0, "words": 0, "coverage": None}


def test_a_high_error_density_lowers_the_estimate_one_band():
    coverage = {"A1": (90, 100), "A2": (70, 100)}
    assert estimate(coverage, errors=8, words=100)["level"] == "A1"
    assert estimate(coverage, errors=8, words=100)["inputs"]["error_density"] == 8.0
    assert estimate(coverage, errors=7, words=100)["level"] == "A2"
    assert estimate({"A1": (90, 100)}, errors=20, words=100)["level"] is None  # below A1


def test_a_density_from_too_few_words_is_not_used():
    found = estimate({"A1": (90, 100)}, errors=10, words=analytics.DENSITY_MIN_WORDS - 1)
    assert found["level"] == "A1" and found["inputs"]["error_density"] is None


def test_no_band_reached_is_null_with_the_method_and_thresholds():
    found = estimate({"A1": (10, 100)})
    assert found["level"] is None
    assert found["inputs"]["thresholds"]["band_coverage"] == analytics.BAND_COVERAGE
    assert "highest band" in found["method"]


def test_a_window_is_local_days_and_monday_weeks():
    paris = ZoneInfo("Europe/Paris")
    window = analytics.Window.ending_today(paris, 10, datetime(2026, 12, 6, 23, 30, tzinfo=timezone.utc))
    assert window.last_day == date(2026, 12, 7)  # already Monday in Paris
    assert window.first_day == date(2026, 11, 28) and len(window.days()) == 10
    assert window.weeks() == [date(2026, 11, 23), date(2026, 11, 30), date(2026, 12, 7)]
    assert window.start == datetime(2026, 11, 27, 23, 0, tzinfo=timezone.utc)

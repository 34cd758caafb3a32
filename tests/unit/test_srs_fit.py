"""Fitting a learner's FSRS parameters (fsrs-rs-python) and judging them on held-out reviews."""
from datetime import datetime, timedelta, timezone

import fsrs

from domain.srs import fit as optimizer
from tests.support.synthetic_learner import simulate, true_parameters


def rows(reviews):
    return sorted(((r.card, r.rating, r.at) for r in reviews), key=lambda row: (row[0], row[2]))


def test_predictions_carry_each_cards_history_in_whole_days():
    start = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
    found = optimizer.predictions([(7, 3, start), (7, 3, start + timedelta(minutes=10)),
                                   (7, 1, start + timedelta(days=3, hours=2)), (8, 3, start)])
    # The second review (same day) predicts nothing long-term; the third does.
    assert [p.history for p in found] == [((3, 0), (3, 0), (1, 3))]


def test_the_held_out_reviews_are_the_newest_and_long_term_only():
    found = optimizer.predictions(rows(simulate(cards=60)))
    train, held_out = optimizer.split_by_time(found)
    assert max(p.at for p in train) <= min(p.at for p in held_out)
    assert all(p.history[-1][1] > 0 for p in held_out)
    assert len(train) == int(len(found) * 0.8)


def test_a_fit_on_a_learner_who_forgets_faster_moves_the_parameters_and_predicts_better():
    train, held_out = optimizer.split_by_time(optimizer.predictions(rows(simulate())))
    fitted = optimizer.fit(train)
    defaults = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    assert len(fitted) == 21
    assert fitted[0] < defaults[0] / 2 and fitted[2] < defaults[2] / 2  # initial stabilities found lower
    before, after = optimizer.log_loss(defaults, held_out), optimizer.log_loss(fitted, held_out)
    assert after < before - 0.01
    assert abs(after - optimizer.log_loss(true_parameters(), held_out)) < abs(before - after)

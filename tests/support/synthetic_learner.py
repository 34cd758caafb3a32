"""A simulated learner whose memory does not follow FSRS-6's default parameters.

Cards are scheduled by the default scheduler (as Parlons would before a fit); whether
the learner recalls a card is drawn from the retrievability of a "true" model whose
stability grows more slowly. A fit on these reviews should find the difference.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import fsrs


def true_parameters() -> list[float]:
    parameters = list(fsrs.scheduler.DEFAULT_PARAMETERS)
    for index in range(4):  # initial stabilities: a quarter of the defaults
        parameters[index] *= 0.25
    parameters[8] = 1.0  # stability grows much less after each recall (default 1.87)
    return parameters


@dataclass(frozen=True)
class SimulatedReview:
    card: int
    at: datetime
    rating: int  # fsrs.Rating value, 1-4
    previous_state: int  # 0 before the first review, else fsrs.State
    after: fsrs.Card  # the card as the default scheduler left it


def simulate(*, cards: int = 300, reviews_per_card: int = 8, seed: int = 7,
             end: datetime | None = None) -> list[SimulatedReview]:
    rng = random.Random(seed)
    truth_model = fsrs.Scheduler(parameters=true_parameters(), enable_fuzzing=False)
    scheduler = fsrs.Scheduler(enable_fuzzing=False)
    end = end or datetime.now(timezone.utc) - timedelta(days=1)
    start = end - timedelta(days=900)
    reviews = []
    for index in range(cards):
        card, truth = fsrs.Card(card_id=index), fsrs.Card(card_id=index)
        at = start + timedelta(days=rng.uniform(0, 200))
        for number in range(reviews_per_card):
            if at >= end:
                break
            recalled = number == 0 or rng.random() < truth_model.get_card_retrievability(truth, at)
            rating = fsrs.Rating.Good if recalled else fsrs.Rating.Again
            previous_state = card.state.value if number else 0
            card, _ = scheduler.review_card(card, rating, review_datetime=at)
            truth, _ = truth_model.review_card(truth, rating, review_datetime=at)
            reviews.append(SimulatedReview(index, at, rating.value, previous_state, card))
            at = card.due + timedelta(hours=rng.uniform(0, 30))
    return reviews

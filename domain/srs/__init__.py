"""Spaced repetition (SRS): the learner's vocabulary (`vocabulary`), its FSRS cards,
reviews, review queue and stats (`reviews`), and the nightly fit of each learner's FSRS
parameters (`fit`). Served at /vocabulary and /progress."""

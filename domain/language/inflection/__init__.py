"""French inflection from the lexicon: noun gender and number, adjective agreement, verb conjugation."""
# Word-level analyses are memoised; the bound keeps a long-lived worker's memory flat.
CACHE_SIZE = 50_000

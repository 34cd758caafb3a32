"""The grammar rules, a module per category of error; `domain.language.grammar.RULES` runs them in order."""

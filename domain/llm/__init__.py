"""LLM providers. The offline provider (`domain.llm.offline`) needs no key and is the default."""

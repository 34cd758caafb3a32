"""LLM providers. `domain.llm.chain.get_chain()` is the way in: OpenAI and Anthropic
through their SDKs, then the offline provider (`domain.llm.offline`), which needs no key."""

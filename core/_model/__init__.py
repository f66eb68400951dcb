"""The vocabulary every layer shares: sensitivity, messages, model cards, redaction, entry points."""

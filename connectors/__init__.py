"""Built-in connectors: how dualtrack talks to partner and in-house models."""

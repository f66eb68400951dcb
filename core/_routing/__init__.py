"""Routing: requirements, the router and its decisions (pure, no I/O)."""

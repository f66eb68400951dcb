"""A tiny inventory package used by the code plugin examples."""

"""Benchmarks: a synthetic history and the figures measured on it (`make bench`)."""

"""Benchmarks that print figures and ratios (`make bench`, `python -m eval.bench`)."""

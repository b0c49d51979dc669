"""Measuring copqa: benchmarks now; answer-quality evaluation to come."""

"""Loaders for every source format copqa reads, and the pipeline that stores them."""

"""Benchmarks (``nexa bench …``): each prints one JSON object, with a baseline from the same run."""

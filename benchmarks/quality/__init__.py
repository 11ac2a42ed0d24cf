"""Helpers of `benchmarks/movielens_quality.py` (issue 6): data, variants, training, scoring."""

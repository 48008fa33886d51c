"""Benchmarks: plain scripts that print their figures, each beside a baseline measured in the same run."""

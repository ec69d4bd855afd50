"""Benchmarks: `make bench` (python -m bench) runs them and writes bench/results/<date>.md.

Numbers are measured here and reported; tests never assert on timing.
"""

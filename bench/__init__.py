"""Benchmark scripts; each runs on its own (`python bench/NAME.py`) and prints its figures."""

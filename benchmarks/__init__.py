"""Benchmarks: run with ``make bench``; each prints its figures and the targets they answer."""

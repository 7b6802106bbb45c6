"""Helpers of ``benchmarks/run.py``: statistics, temp projects, processes and the measures."""

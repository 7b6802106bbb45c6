"""The pytest plugin (fixture ``pingback``) and its virtual-clock platform for testing a
project's functions as the platform runs them.
"""

"""How attempts reach handlers: one interface, two kinds. ``worker`` supervises the worker
subprocess that imports the user's project; ``http`` POSTs signed requests to an app the
user runs. May import ``protocol``, ``models``, ``errors``, ``project``; never the CLI.
"""

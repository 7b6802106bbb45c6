"""How attempts reach handlers: one interface (``base.Executor``: start, start_attempt,
reload, register, forward, aclose), two kinds. ``worker`` supervises the worker subprocess
that imports the user's project (``process``); ``endpoint`` POSTs signed requests to an app
the user runs (``http``), with the functions of its registry. May import ``protocol``,
``models``, ``errors``, ``project``; never the CLI, the engine or the emulator.
"""

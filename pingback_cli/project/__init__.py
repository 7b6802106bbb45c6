"""The project layer: locate the root, layered .env, ``[tool.pingback]``; import user code
and collect FunctionSpecs; the one rule table for options; the platform's cron grammar and
durations; ``js/`` for the static TS scan.

Pure except ``loader`` (which imports user code). Imports only ``errors``, ``models`` and
its own modules: never the engine, emulator, history, executors or CLI.
"""

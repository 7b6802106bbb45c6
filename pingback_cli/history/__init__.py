"""History: SQLite (WAL) under ``.pingback/``: executions, attempts, owners and liveness,
corrupt-file rescue. Knows no scheduling: never imports the engine.
"""

"""The platform host: wires engine + executor + history + the platform API for ``run``,
``dev`` and ``replay``; the API routes and their server.

May import every library layer; never the CLI or Rich.
"""

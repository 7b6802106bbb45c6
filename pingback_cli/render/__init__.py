"""Renderables for what the CLI shows, one module per kind: ``functions`` (the function table),
``trees`` (execution trees), ``runs`` (recent runs), ``pending`` (work that waits), ``events``
(live lines), ``output`` (a handler's printed output), all built from ``cells``.

Every function here builds and returns a Rich object and never prints; the function table is
also a ``grid.Grid`` (data with a Rich-free plain layout, which ``Terminal.grid`` prints off a
terminal without importing Rich). User text (names,
payloads, messages, tracebacks) only ever goes into :class:`~rich.text.Text` spans, so it is never
parsed as markup or emoji. Import the module you need: this package imports none of them.
"""

"""The engine: queue, retries and backoff, timeouts, concurrency, plan caps, fan-out, and the
cron timer, all on an injected clock.

Imports ``models``, ``protocol``, ``errors`` and ``project`` (pure parts) only: no CLI, no screen
(Rich), no web (Starlette), no history.
"""

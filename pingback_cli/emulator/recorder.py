"""The emulator's history file while it runs: opened, written on the event loop, closed.

Executions the engine saves are buffered by the ``Store``; the recorder writes them
within a loop turn of a finished tree and every ``FLUSH_INTERVAL`` seconds otherwise. A
history that cannot be written (locked past the busy timeout, read-only) is said once
and kept in ``error``: the emulator raises it when it stops, so the command ends with that
error instead of a traceback in a loop callback and a quiet exit 0. The store keeps what it
could not write and tries it again (``history.write_behind``): when the close writes it after
all, that is said instead and the error is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from pingback_cli.errors import HistoryError, Unavailable
from pingback_cli.history.queue import DEV_QUEUE
from pingback_cli.history.recovery import recover
from pingback_cli.history.store import Store, history_path

FLUSH_INTERVAL = 0.1
"""Seconds between periodic writes of what is buffered."""


class Recorder:
    def __init__(self, root: Path, *, durable: bool, on_notice: Callable[[str], None]) -> None:
        self.root = root
        self.durable = durable
        self.on_notice = on_notice
        self.error: HistoryError | None = None
        """The first failure to write history."""
        self._store: Store | None = None
        self._flush_scheduled = False

    def open(self) -> Store:
        """Open the history (with the durable queue when ``durable``): a corrupt file is moved
        aside and executions a killed pingback left unfinished become interrupted, each said
        through ``on_notice``. Raises HistoryError when it cannot be opened."""
        store = Store(history_path(self.root), queue=DEV_QUEUE if self.durable else None)
        self._store = store
        if store.moved_aside is not None:
            self.on_notice(f"the history file was corrupt: moved it to {store.moved_aside}")
        recovered = recover(store)
        if recovered:
            self.on_notice(
                f"{recovered} execution{'s' if recovered != 1 else ''} left unfinished by a pingback "
                "process that was killed are now marked interrupted"
            )
        return store

    @property
    def store(self) -> Store:
        """The open store (its reads flush what is buffered first); Unavailable once closed."""
        if self._store is None:
            raise Unavailable("the emulator is stopping; history is closed")
        return self._store

    def flush_soon(self) -> None:
        """A finished tree is in history within a loop turn, not at the next periodic flush."""
        if not self._flush_scheduled and self._store is not None:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_now)

    def _flush_now(self) -> None:
        self._flush_scheduled = False
        self.flush(wait=False)

    def flush(self, *, wait: bool = True) -> None:
        """Write what is buffered; a failure is kept in ``error`` and said once. ``wait``: on
        disk when this returns (``Store.flush``); the periodic flushes do not wait."""
        if self._store is None:
            return
        try:
            self._store.flush(wait=wait)
        except HistoryError as exc:
            if self.error is None:
                self.error = exc
                self.on_notice(f"history is not being saved: {exc.message}")

    async def flush_forever(self) -> None:
        """Hand buffered executions to history every ``FLUSH_INTERVAL``, without waiting: the
        rows are encoded here, where the executions change, and a big flush is committed by
        the store's write-behind thread (``history.write_behind``) while the loop runs on."""
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            self.flush(wait=False)

    def close(self) -> None:
        """Write the rest and close; a failure is kept in ``error``."""
        store, self._store = self._store, None  # a flush scheduled meanwhile finds no store
        if store is None:
            return
        try:
            store.close()
        except HistoryError as exc:
            self.error = self.error or exc
            return
        if self.error is not None and store.lost == 0:  # a failed write went through on a later try
            self.on_notice("history caught up: every execution is saved after all")
            self.error = None

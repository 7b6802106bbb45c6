"""The hints an emulator gives at most once (the words are ``notices``'): that an attempt
failed calling the hosted service instead of this emulator, and, in endpoint mode, that the app
answered a failed attempt without having registered with this emulator.

No timer: pingback-py registers once per process, while it handles its first request
(runpingback/pingback-py ``pingback/client.py:118-130``, ``_ensure_registered`` called from
``handle``), so before an attempt reaches the app, its silence proves nothing; and an app that
answered without registering here registered earlier, with the `dev` before this one (fine) or
with the hosted service. An attempt the app ran successfully says nothing at all: the route and the
secret work, and a wrong ``platform_url`` shows when a ``pb.trigger()`` fails (the hosted hint)."""

from __future__ import annotations

from collections.abc import Callable

from pingback_cli.emulator import notices
from pingback_cli.models import Execution

_HANDLER_RAN = (200, 500)
"""The statuses of a pingback-py app that ran the handler (``pingback/client.py:167,177``): it had
passed ``_ensure_registered``; a 401 or a 404 is a setup error, said on its own."""


class Hints:
    """One per emulator; ``say`` shows a notice."""

    def __init__(self, say: Callable[[str], None], *, endpoint_mode: bool) -> None:
        self._say = say
        self._endpoint_mode = endpoint_mode
        self._said = False
        self.app_registered = False
        """Endpoint mode: the app has registered with this emulator."""
        self.app_succeeded = False
        """Endpoint mode: an attempt succeeded (the app runs, on this route, with this secret)."""

    def attempt_failed(self, execution: Execution, api_url: str) -> None:
        """``execution``'s attempt failed: the hosted-service hint, once, if that is why; else, in
        endpoint mode, the registration hint if the app answered yet never registered here."""
        if self._said:
            return
        registered = self.app_registered if self._endpoint_mode else None
        if notices.failed_on_hosted_service(execution, registered):
            self._said = True
            self._say(notices.hosted_service(api_url))
        elif self._endpoint_mode and not (self.app_registered or self.app_succeeded):
            attempt = execution.attempts[-1] if execution.attempts else None
            if attempt is not None and attempt.http_status in _HANDLER_RAN:
                self._said = True
                self._say(notices.unregistered(api_url))

"""The hints an emulator gives at most once (the words are ``notices``'): that an attempt
failed calling the hosted service instead of this emulator, and, in endpoint mode, that the app
has not registered here."""

from __future__ import annotations

from collections.abc import Callable

from pingback_cli.emulator import notices
from pingback_cli.models import Execution


class Hints:
    """One per emulator; ``say`` shows a notice."""

    def __init__(self, say: Callable[[str], None], *, endpoint_mode: bool) -> None:
        self._say = say
        self._endpoint_mode = endpoint_mode
        self._hosted_said = False
        self.app_registered = False
        """Endpoint mode: the app has registered with this emulator."""

    def attempt_failed(self, execution: Execution, api_url: str) -> None:
        """``execution``'s attempt failed: the hosted-service hint, once, if that is why."""
        if self._hosted_said:
            return
        registered = self.app_registered if self._endpoint_mode else None
        if notices.failed_on_hosted_service(execution, registered):
            self._hosted_said = True
            self._say(notices.hosted_service(api_url))

    def registration_due(self, api_url: str) -> None:
        """Endpoint mode, ``notices.REGISTER_HINT_SECONDS`` after the start: how to register."""
        if not self.app_registered:
            self._say(notices.unregistered(api_url))

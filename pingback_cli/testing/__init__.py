"""The pytest plugin (fixture ``pingback``) and its virtual-clock platform for testing a
project's functions as the platform runs them.

``plugin`` (the ``pytest11`` entry point) imports nothing heavy; ``platform`` holds
``VirtualPlatform`` (the fixture's object), ``execution`` the ``Execution`` view tests assert
on, ``driver`` and ``clock`` the virtual time, ``faults`` fault injection, ``hosting`` where
handlers run, ``transport`` how ``pb.trigger()`` reaches the platform without a port, and
``simulate`` the library behind ``pingback simulate``. May import every layer but ``cli``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pingback_cli.testing.execution import Execution
    from pingback_cli.testing.platform import VirtualPlatform

__all__ = ["Execution", "VirtualPlatform"]


def __getattr__(name: str) -> Any:
    if name == "VirtualPlatform":
        from pingback_cli.testing.platform import VirtualPlatform

        return VirtualPlatform
    if name == "Execution":
        from pingback_cli.testing.execution import Execution

        return Execution
    raise AttributeError(name)

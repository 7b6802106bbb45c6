"""The pytest plugin (entry point ``pytest11``): the ``pingback`` fixture.

pytest imports this module at every start-up in an environment where pingback-cli is
installed, so it imports nothing of ours until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pingback_cli.testing.platform import VirtualPlatform


@pytest.fixture
def pingback() -> Iterator[VirtualPlatform]:
    """An emulated Pingback platform for the project under test, on a virtual clock.

    The project is loaded (as ``pingback`` finds it from the working directory) on first use,
    or by ``pingback.load(app=...)``. Handlers run in this process through the SDK's own
    ``pb.handle()``; see the README's "Testing your functions".
    """
    from pingback_cli.testing.platform import VirtualPlatform

    platform = VirtualPlatform()
    platform.put_project_on_path()  # a test may import the project's modules before the first run
    try:
        yield platform
    finally:
        platform.close()

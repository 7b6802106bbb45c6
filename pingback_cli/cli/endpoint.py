"""The ``--endpoint`` and ``--secret`` options that ``run`` and ``dev`` share."""

from __future__ import annotations

from typing import Annotated

import typer

EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="Send each attempt as a signed POST to your running app at this URL (any language), "
        "instead of importing the project into a worker. "
        "Example: --endpoint http://127.0.0.1:3000/api/pingback",
        show_default=False,
    ),
]
SecretOption = Annotated[
    str | None,
    typer.Option(
        "--secret",
        help="The cron secret to sign requests to --endpoint with; it must match the app's "
        "PINGBACK_CRON_SECRET. Default: PINGBACK_CRON_SECRET (from the environment or .env).",
        show_default=False,
    ),
]

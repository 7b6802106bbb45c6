"""``python -m pingback_cli``: the `pingback` command (e.g. ``python -X importtime -m pingback_cli ls``)."""

from pingback_cli.cli.main import main

main()

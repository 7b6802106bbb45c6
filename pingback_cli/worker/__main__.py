"""``python -m pingback_cli.worker``."""

from pingback_cli.worker.main import main

main()

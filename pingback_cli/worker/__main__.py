"""``python -m pingback_cli.worker``."""

from pingback_cli import startup

startup.hold()  # before our imports and the project's; main() releases once the project is loaded

from pingback_cli.worker.main import main  # noqa: E402

main()

"""The `pingback` command: ``main`` (the entry point), ``app`` (the Typer app), one module
per command, and what they share (``common``).

Commands parse options, call one library function and render its result; no logic here.
"""

COMPLETE_VAR = "_PINGBACK_COMPLETE"
"""Set by the shell scripts of ``pingback completion`` when a TAB asks for words."""

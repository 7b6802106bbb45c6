"""The web dashboard (Jinja2 templates, static files, routes, Server-Sent Events), served by
`pingback dev` and `pingback ui`. Imported only by the emulator's server and the commands that
serve it: never by `run`, `ls` or the other commands, whose start-up must not grow.
"""

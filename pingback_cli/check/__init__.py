"""``pingback check``: lint rules over a project, reading the same rule table as spec building
(``project.specs``). May import ``project`` and ``errors``; never the engine or emulator.
"""

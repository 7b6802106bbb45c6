"""Shared by every test folder: ``tests/`` is on ``sys.path`` (``cli_support`` imports from
anywhere), and the per-folder conftests add what their layer needs."""

"""Static scan of JavaScript/TypeScript projects (``@usepingback/next``): ``tokens`` (the
tokenizer), ``imports`` (how a file binds ``cron``/``task``), ``calls`` (reading one call's
literal arguments), ``scan`` (files and folders, the entry point). Pure: imports nothing of
the emulator.
"""

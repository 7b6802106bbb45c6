"""Static scan of JavaScript/TypeScript projects (``@usepingback/next``): a tokenizer and a
call reader. Pure: imports nothing of the emulator.
"""

"""The ladder itself, with no I/O beyond reading ``knowledge/``: settings, the knowledge models and loader,
level names people type, the importer of HR's export, the request bank, the gap-check state machine and
plain renderings of levels.

May import: nothing of ``bot`` outside ``bot.core``.
"""

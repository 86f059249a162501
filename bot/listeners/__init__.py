"""Thin Slack callbacks: ``ack()`` first, call :mod:`bot.handlers`, post what it returns."""

from bot.listeners import actions, commands, events, views

KINDS = (commands, events, actions, views)


def register_all(app, deps) -> None:
    for kind in KINDS:
        kind.register(app, deps)

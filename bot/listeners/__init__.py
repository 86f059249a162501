"""Thin Slack callbacks: ``ack()`` first, call :mod:`bot.handlers`, post what it returns."""

from bot.listeners import actions, commands, events

KINDS = (commands, events, actions)


def register_all(app, deps) -> None:
    for kind in KINDS:
        kind.register(app, deps)

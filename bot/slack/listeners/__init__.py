"""Thin Slack callbacks: the ack half writes the job and acks; the work half calls :mod:`bot.chat.handlers`
and posts what it returns (run by :class:`bot.slack.listeners.jobs.Jobs`)."""

from bot.slack.listeners import actions, commands, events, views
from bot.slack.listeners.jobs import Jobs

KINDS = (commands, events, actions, views)


def register_all(app, deps) -> Jobs:
    jobs = Jobs(deps, app.client)
    for kind in KINDS:
        kind.register(app, deps, jobs)
    jobs.start()
    return jobs

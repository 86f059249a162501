"""Ladder on Slack: the Bolt app factory, the listeners (``register(app, deps, jobs)``), the WSGI app and its
gunicorn worker, request signatures and the outbox's Web API sender. The only importer of ``slack_bolt``
and of ``slack_sdk``'s clients.

May import: every package below it (``bot.core`` … ``bot.chat``).
"""

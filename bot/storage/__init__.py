"""What Ladder remembers, in SQLite: the store (numbered migrations), the outbox of broadcasts, the inbox of
acknowledged Slack jobs, knowledge versions (HR's edits) and roles with their audit.

May import: ``bot.core``.
"""

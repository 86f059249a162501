"""What Ladder says for each command, question, button and form: questions, the gap check, teams and HR
edits, as transport-free :class:`~bot.chat.replies.Reply` values, and the Block Kit they are drawn with
(``slack_sdk.models`` only: a data format with Slack's limits, no client).

May import: ``bot.core``, ``bot.search``, ``bot.advisor``, ``bot.storage``.
"""

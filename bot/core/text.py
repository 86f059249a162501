"""Slack's escaping, in a module with no imports so every layer (knowledge included) can use it."""

from __future__ import annotations


def escape(text: str) -> str:
    """Slack's three control characters: https://api.slack.com/reference/surfaces/formatting#escaping"""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

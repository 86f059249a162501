"""Ladder: a career-ladder advisor for a call-centre company, in Slack."""

__version__ = "0.1.0"

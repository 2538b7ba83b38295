"""The one base for "what you typed does not fit": every layer raises a subclass, and the
edges (Slack, CLI, scheduler) tell the user its message instead of an error id."""

from __future__ import annotations


class InputError(ValueError):
    """The user's input cannot be used as given; the message says how to fix it."""

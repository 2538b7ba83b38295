"""Slack: the bolt app, listeners and Block Kit rendering (issue: Slack)."""

"""Bolt listeners: thin — ack, parse, dispatch, render, post."""

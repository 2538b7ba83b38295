"""Persistence: sqlmodel tables, the engine, sessions and repository verbs.

Imports none of journeybot's other packages.
"""

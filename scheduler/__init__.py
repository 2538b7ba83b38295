"""Scheduled jobs that run skills and post their results (issue: scheduler)."""

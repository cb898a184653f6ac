"""Reminders to people who started the survey and did not finish (sent by the invitations'
delivery engine, one stored row per message)."""

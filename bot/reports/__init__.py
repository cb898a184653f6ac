"""Coordinator reports: coordinators, privacy-safe summaries, comments, charts and exports.

No Telegram here: `handlers/reports.py` parses updates, calls `ReportService` and presents
the views of `views.py`. All SQL is in `storage/reports.py`.
"""

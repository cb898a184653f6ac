"""Coordinator reports: roles and audit, privacy-safe summaries, comments, charts and exports.

No Telegram here: `handlers/coordinator.py` parses updates, calls `ReportService` and sends
what it returns. All SQL is in `storage/reports.py`. The one exception is `demo.py`, glue
for `hiwar demo` that wires storage and the handlers' error messages like bot/app.py does.
"""

"""The shared core: errors, languages, the clock, who is acting (and may they), screens and
button data. No Telegram and no storage here (import-linter checks it, see pyproject.toml)."""

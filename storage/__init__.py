"""Everything that knows which database the application talks to (SQLite or PostgreSQL)."""

from storage.store import Store, open_store

__all__ = ["Store", "open_store"]

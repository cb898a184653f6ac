-- Several bot processes ("instances") may share one PostgreSQL database; the schema is the
-- same on SQLite, where the only live instance is the process that has the file open.
-- Each instance registers here at start-up; work it claims carries its number, so that
-- what a crashed instance left half-done is recognised and taken over (storage/instances.py).
CREATE TABLE instances (
    instance   INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL
);

-- The inbox row's user (the ordering key: one user's updates are applied in update_id
-- order), the instance that will apply it, and since when it is being applied.
ALTER TABLE inbox ADD COLUMN user_key INTEGER;
ALTER TABLE inbox ADD COLUMN owner INTEGER;
ALTER TABLE inbox ADD COLUMN started_at TEXT;

CREATE INDEX inbox_pending_by_user ON inbox (user_key, update_id) WHERE done_at IS NULL;

-- The instance sending a message marked 'sending'.
ALTER TABLE invitation_deliveries ADD COLUMN claimed_by INTEGER;
ALTER TABLE invitation_reminders ADD COLUMN claimed_by INTEGER;

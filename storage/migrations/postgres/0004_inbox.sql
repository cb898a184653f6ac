-- Updates are written here before Telegram is told they arrived, and marked done once
-- handled (see migrations/sqlite/0004_inbox.sql).
CREATE TABLE inbox (
    update_id   BIGINT PRIMARY KEY,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    done_at     TEXT
);

CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;

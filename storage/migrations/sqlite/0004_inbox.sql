-- Updates are written here before Telegram is told they arrived (the next getUpdates offset,
-- or the webhook's 200), and marked done once handled: a crash loses none of them, and a
-- re-delivery of one already handled is recognised. Done rows are kept a day, like Telegram.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    payload     TEXT NOT NULL,
    received_at TEXT NOT NULL,
    done_at     TEXT
);

CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;

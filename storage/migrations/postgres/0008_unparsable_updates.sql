-- Updates this version's PTB cannot parse, kept raw for a developer to look at (bot/http.py):
-- each once, counted in the log without its content, pruned with the inbox after a day, and
-- erased by /delete with the rest of the person's rows.
CREATE TABLE unparsable_updates (
    update_id   BIGINT PRIMARY KEY,
    user_key    BIGINT,
    payload     TEXT NOT NULL,
    error       TEXT NOT NULL,
    received_at TEXT NOT NULL
);

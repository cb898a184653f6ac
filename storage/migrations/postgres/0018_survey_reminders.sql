-- Reminders to people who did not finish: the PostgreSQL spelling of
-- migrations/sqlite/0018_survey_reminders.sql (its comments say what the table is for).
CREATE TABLE survey_reminders (
    response_id BIGINT NOT NULL REFERENCES responses (response_id) ON DELETE CASCADE,
    number      INTEGER NOT NULL CHECK (number IN (1, 2)),
    user_id     BIGINT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    answered    INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    due_at      TEXT NOT NULL,
    state       TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  BIGINT,
    message_id  BIGINT,
    error       TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (response_id, number)
);

CREATE INDEX survey_reminders_due ON survey_reminders (state, due_at);
CREATE INDEX survey_reminders_by_user ON survey_reminders (user_id);

-- The responses a reminder may be due to (looked for every minute by each instance).
CREATE INDEX responses_unfinished ON responses (started_at)
    WHERE status IN ('in_progress', 'paused');

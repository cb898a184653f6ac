-- Reminders to people who started the survey and did not finish (bot/reminders/): one row
-- per reminder, queued when due and sent by the invitations' delivery engine (claimed_by:
-- the instance sending it, as in invitation_deliveries). At most two per response: the
-- primary key (response_id, number) keeps instances sharing a database from queuing one
-- twice. Rows go with the response and with the user on /delete (ON DELETE CASCADE).
-- Timestamps are UTC ISO 8601 with microseconds, so they compare as text.
CREATE TABLE survey_reminders (
    response_id INTEGER NOT NULL REFERENCES responses (response_id) ON DELETE CASCADE,
    number      INTEGER NOT NULL CHECK (number IN (1, 2)),
    user_id     INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    answered    INTEGER NOT NULL,
    total       INTEGER NOT NULL,
    due_at      TEXT NOT NULL,
    state       TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  INTEGER,
    message_id  INTEGER,
    error       TEXT,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (response_id, number)
) WITHOUT ROWID;

CREATE INDEX survey_reminders_due ON survey_reminders (state, due_at);
CREATE INDEX survey_reminders_by_user ON survey_reminders (user_id);

-- The responses a reminder may be due to (looked for every minute by each instance).
CREATE INDEX responses_unfinished ON responses (started_at)
    WHERE status IN ('in_progress', 'paused');

-- Workshop invitations: the admins' /invite drafts, invitations, one delivery row per
-- recipient (the send list, stored before the first message goes out), RSVPs, reminders and
-- the people who must not be messaged (unsubscribed, or blocked the bot). Everything needed
-- to resume a broadcast after a crash is here. Rows about a person reference users with
-- ON DELETE CASCADE, so /delete erases them; a trigger erases an admin's draft with them.
-- Timestamps are UTC ISO 8601 with microseconds, so they compare as text.

CREATE TABLE invitation_drafts (
    admin_id   INTEGER PRIMARY KEY,
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TRIGGER invitation_drafts_erased_with_user AFTER DELETE ON users
BEGIN
    DELETE FROM invitation_drafts WHERE admin_id = OLD.user_id;
END;

CREATE TABLE invitations (
    invitation_id         INTEGER PRIMARY KEY,
    created_by            INTEGER NOT NULL,
    admin_language        TEXT NOT NULL,
    title_ar              TEXT NOT NULL,
    title_en              TEXT NOT NULL,
    description_ar        TEXT NOT NULL,
    description_en        TEXT NOT NULL,
    starts_at             TEXT NOT NULL,
    time_zone             TEXT NOT NULL,
    duration_minutes      INTEGER NOT NULL CHECK (duration_minutes > 0),
    place                 TEXT NOT NULL,
    audience              TEXT NOT NULL,
    remind_before_minutes INTEGER NOT NULL CHECK (remind_before_minutes > 0),
    status                TEXT NOT NULL CHECK (status IN ('sending', 'done')),
    progress_message_id   INTEGER,
    created_at            TEXT NOT NULL,
    finished_at           TEXT
);

CREATE INDEX invitations_by_status ON invitations (status);

CREATE TABLE invitation_deliveries (
    invitation_id   INTEGER NOT NULL REFERENCES invitations (invitation_id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    language        TEXT NOT NULL,
    state           TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    message_id      INTEGER,
    error           TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (invitation_id, user_id)
) WITHOUT ROWID;

CREATE INDEX invitation_deliveries_due ON invitation_deliveries (state, next_attempt_at);
CREATE INDEX invitation_deliveries_by_user ON invitation_deliveries (user_id);

CREATE TABLE invitation_rsvps (
    invitation_id INTEGER NOT NULL REFERENCES invitations (invitation_id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    answer        TEXT NOT NULL CHECK (answer IN ('yes', 'maybe', 'no')),
    answered_at   TEXT NOT NULL,
    PRIMARY KEY (invitation_id, user_id)
) WITHOUT ROWID;

CREATE INDEX invitation_rsvps_by_user ON invitation_rsvps (user_id);

CREATE TABLE invitation_reminders (
    invitation_id INTEGER NOT NULL REFERENCES invitations (invitation_id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    due_at        TEXT NOT NULL,
    state         TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'blocked', 'failed', 'cancelled', 'expired')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    message_id    INTEGER,
    error         TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (invitation_id, user_id)
) WITHOUT ROWID;

CREATE INDEX invitation_reminders_due ON invitation_reminders (state, due_at);
CREATE INDEX invitation_reminders_by_user ON invitation_reminders (user_id);

CREATE TABLE invitation_optouts (
    user_id INTEGER PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    reason  TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'blocked')),
    at      TEXT NOT NULL
);

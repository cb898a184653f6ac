-- Respondents, their responses and answers, and the update ids already applied.
CREATE TABLE users (
    user_id      INTEGER PRIMARY KEY,
    language     TEXT,
    consented_at TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE responses (
    response_id      INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    survey_id        TEXT NOT NULL,
    survey_version   INTEGER NOT NULL,
    respondent_code  TEXT NOT NULL UNIQUE,
    status           TEXT NOT NULL CHECK (status IN ('in_progress', 'paused', 'completed')),
    current_question TEXT,
    draft            TEXT,
    started_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    completed_at     TEXT,
    UNIQUE (user_id, survey_id)
);

CREATE INDEX responses_by_survey_status ON responses (survey_id, status);

CREATE TABLE answers (
    response_id INTEGER NOT NULL REFERENCES responses (response_id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    value       TEXT,
    answered_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question_id)
) WITHOUT ROWID;

CREATE TABLE processed_updates (
    update_id    INTEGER PRIMARY KEY,
    processed_at TEXT NOT NULL
);

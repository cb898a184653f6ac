-- hiwar: rebuilds tables
-- Rounds of a survey (bot/rounds/): an admin opens one, later closes it, and opens the next;
-- each respondent answers each round once. `responses.round_id` is the round a response was
-- started in; 0 means no round (responses from before any round was opened, and those
-- started while none is open). `previous_response`: the same person's earlier response
-- whose answers a new one starts from (each is shown, to be kept or changed; only what is
-- confirmed is stored with the new one). The unique key of responses becomes (user_id, survey_id,
-- round_id), which SQLite can only do by rebuilding the table
-- (https://www.sqlite.org/lang_altertable.html#otheralter): the first line above makes the
-- runner (storage/migrations.py) apply this file with foreign keys off and check them before
-- it commits. `answers` and `released_comments` keep referring to `responses` by name; the
-- views and triggers on it are dropped with it and made again as they were (0002), with the
-- round added to report_profiles.
CREATE TABLE rounds (
    round_id  INTEGER PRIMARY KEY,
    survey_id TEXT NOT NULL,
    title     TEXT NOT NULL,
    opened_by INTEGER NOT NULL,
    opened_at TEXT NOT NULL,
    closed_at TEXT
);

-- At most one open round per survey.
CREATE UNIQUE INDEX rounds_open ON rounds (survey_id) WHERE closed_at IS NULL;

DROP VIEW report_items;
DROP VIEW report_profiles;

CREATE TABLE new_responses (
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
    paste_message_id BIGINT,
    paste_sent_at    TEXT,
    first_snapshot   INTEGER,
    round_id         INTEGER NOT NULL DEFAULT 0,
    previous_response INTEGER,
    UNIQUE (user_id, survey_id, round_id)
);

INSERT INTO new_responses (response_id, user_id, survey_id, survey_version, respondent_code,
    status, current_question, draft, started_at, updated_at, completed_at, paste_message_id,
    paste_sent_at, first_snapshot)
SELECT response_id, user_id, survey_id, survey_version, respondent_code, status,
    current_question, draft, started_at, updated_at, completed_at, paste_message_id,
    paste_sent_at, first_snapshot
FROM responses;

DROP TABLE responses;
ALTER TABLE new_responses RENAME TO responses;

CREATE INDEX responses_by_survey_status ON responses (survey_id, status);
CREATE INDEX responses_by_survey_version ON responses (survey_id, survey_version);
CREATE INDEX responses_by_round ON responses (survey_id, round_id, status);

CREATE VIEW report_profiles AS
SELECT
    r.response_id,
    r.survey_id,
    r.status,
    COALESCE((
        SELECT json_extract(a.value, '$') FROM answers a
        JOIN report_questions q ON q.question_id = a.question_id
        WHERE a.response_id = r.response_id AND q.survey_id = r.survey_id AND q.role = 'country'
    ), '') AS country,
    COALESCE((
        SELECT json_extract(a.value, '$') FROM answers a
        JOIN report_questions q ON q.question_id = a.question_id
        WHERE a.response_id = r.response_id AND q.survey_id = r.survey_id AND q.role = 'sector'
    ), '') AS sector,
    COALESCE((
        SELECT json_extract(a.value, '$') FROM answers a
        JOIN report_questions q ON q.question_id = a.question_id
        WHERE a.response_id = r.response_id AND q.survey_id = r.survey_id AND q.role = 'level'
    ), '') AS level,
    r.round_id
FROM responses r;

CREATE VIEW report_items AS
SELECT a.response_id, q.survey_id, a.question_id, CAST(item.value AS TEXT) AS item
FROM answers a
JOIN responses r ON r.response_id = a.response_id
JOIN report_questions q
    ON q.survey_id = r.survey_id AND q.question_id = a.question_id AND q.role = 'tally',
    json_each(a.value) AS item
WHERE a.value IS NOT NULL;

CREATE TRIGGER report_count_completed AFTER UPDATE OF status ON responses
WHEN NEW.status = 'completed' AND OLD.status <> 'completed'
BEGIN
    INSERT INTO report_cells (survey_id, country, sector, level, respondents)
    SELECT survey_id, country, sector, level, 1 FROM report_profiles
    WHERE response_id = NEW.response_id
    ON CONFLICT DO UPDATE SET respondents = respondents + 1;

    INSERT INTO report_tallies (survey_id, question_id, item, country, sector, level, answers)
    SELECT i.survey_id, i.question_id, i.item, p.country, p.sector, p.level, 1
    FROM report_items i JOIN report_profiles p ON p.response_id = i.response_id
    WHERE i.response_id = NEW.response_id
    ON CONFLICT DO UPDATE SET answers = answers + 1;
END;

CREATE TRIGGER report_uncount_deleted BEFORE DELETE ON responses
WHEN OLD.status = 'completed'
BEGIN
    UPDATE report_cells SET respondents = respondents - 1
    WHERE (survey_id, country, sector, level) IN (
        SELECT survey_id, country, sector, level FROM report_profiles
        WHERE response_id = OLD.response_id
    );

    UPDATE report_tallies SET answers = answers - 1
    WHERE (survey_id, question_id, item, country, sector, level) IN (
        SELECT i.survey_id, i.question_id, i.item, p.country, p.sector, p.level
        FROM report_items i JOIN report_profiles p ON p.response_id = i.response_id
        WHERE i.response_id = OLD.response_id
    );

    DELETE FROM report_cells WHERE respondents = 0;
    DELETE FROM report_tallies WHERE answers = 0;
END;

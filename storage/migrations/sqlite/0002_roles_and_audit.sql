-- Coordinator roles, one-time grant codes, the audit log, and the report tallies that keep
-- /summary fast at 100,000 responses. Timestamps are UTC ISO 8601, so they compare as text.

-- People an admin made coordinators (admins themselves come from HIWAR_ADMIN_IDS).
CREATE TABLE coordinators (
    user_id      INTEGER PRIMARY KEY,
    display_name TEXT NOT NULL,
    granted_by   INTEGER NOT NULL,
    granted_at   TEXT NOT NULL
);

-- One-time invitation links. Only a SHA-256 hash of the code is kept, so a copy of the
-- database does not hand out working links.
CREATE TABLE grant_codes (
    code_hash  TEXT PRIMARY KEY,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_by    INTEGER,
    used_at    TEXT
);

CREATE INDEX grant_codes_pending ON grant_codes (used_by, expires_at);

-- Every coordinator and admin action. Respondents never appear here.
CREATE TABLE audit_log (
    entry_id   INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    actor_id   INTEGER NOT NULL,
    actor_name TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'coordinator')),
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL DEFAULT ''
);

-- Which questions feed the reports, written from the survey's report roles at start-up:
-- 'country', 'sector' and 'level' are the profile dimensions, 'tally' questions are counted.
CREATE TABLE report_questions (
    survey_id   TEXT NOT NULL,
    question_id TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('country', 'sector', 'level', 'tally')),
    PRIMARY KEY (survey_id, question_id)
) WITHOUT ROWID;

-- Each response's profile dimensions ('' when not answered), read from its answers.
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
    ), '') AS level
FROM responses r;

-- The items of each counted answer of a response: an option id, a scale value '1'..'5', or
-- each option of a multiple choice. Skipped answers have no items.
CREATE VIEW report_items AS
SELECT a.response_id, q.survey_id, a.question_id, CAST(item.value AS TEXT) AS item
FROM answers a
JOIN responses r ON r.response_id = a.response_id
JOIN report_questions q
    ON q.survey_id = r.survey_id AND q.question_id = a.question_id AND q.role = 'tally',
    json_each(a.value) AS item
WHERE a.value IS NOT NULL;

-- Completed responses per profile cell (country x sector x level).
CREATE TABLE report_cells (
    survey_id   TEXT NOT NULL,
    country     TEXT NOT NULL,
    sector      TEXT NOT NULL,
    level       TEXT NOT NULL,
    respondents INTEGER NOT NULL,
    PRIMARY KEY (survey_id, country, sector, level)
) WITHOUT ROWID;

-- Answer items of completed responses per profile cell.
CREATE TABLE report_tallies (
    survey_id   TEXT NOT NULL,
    question_id TEXT NOT NULL,
    item        TEXT NOT NULL,
    country     TEXT NOT NULL,
    sector      TEXT NOT NULL,
    level       TEXT NOT NULL,
    answers     INTEGER NOT NULL,
    PRIMARY KEY (survey_id, question_id, item, country, sector, level)
) WITHOUT ROWID;

-- Kept in step with the responses in the same transaction: a response is counted when it
-- completes, and uncounted when it is deleted (/delete cascades from users to responses).
-- A completed response never changes otherwise (the survey service refuses further answers).
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

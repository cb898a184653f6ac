-- Surveys published from the chat, or from the file the bot started with (bot/survey/
-- publishing.py). `document` is the survey file's mapping as JSON (bot/survey/document.py);
-- a row is `pending` from the upload until its admin publishes or cancels it. The survey
-- new respondents get is the last one published; each response keeps the survey id and
-- version it was started on, so people mid-survey finish the version they began.
CREATE TABLE survey_versions (
    upload_id    INTEGER PRIMARY KEY,
    survey_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    document     TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'published', 'cancelled')),
    uploaded_by  INTEGER NOT NULL,
    uploaded_at  TEXT NOT NULL,
    published_at TEXT
);

CREATE UNIQUE INDEX survey_versions_published ON survey_versions (survey_id, version)
    WHERE status = 'published';
CREATE INDEX responses_by_survey_version ON responses (survey_id, survey_version);

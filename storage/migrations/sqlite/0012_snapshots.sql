-- Snapshots (bot/reports/snapshots.py): every coordinator view comes from one, and each is
-- checked against the release history of all earlier ones. `first_snapshot` is the
-- snapshot that first counted a completed response (NULL: not counted yet, or staff).
ALTER TABLE responses ADD COLUMN first_snapshot INTEGER;

-- One row per published snapshot: the groups it released (JSON list, in order), how many
-- respondents share each history of releases (JSON object, hex bit set -> count: no
-- answer, no profile), and its views as shown (JSON object, group -> perturbed summary).
CREATE TABLE report_snapshots (
    survey_id    TEXT NOT NULL,
    number       INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    population   INTEGER NOT NULL,
    released     TEXT NOT NULL,
    atoms        TEXT NOT NULL,
    views        TEXT NOT NULL,
    PRIMARY KEY (survey_id, number)
);

-- Free-text answers released to coordinators (in batches of at least k). Only a reference:
-- the text stays in `answers`, and goes with it when the respondent deletes their data.
CREATE TABLE released_comments (
    response_id INTEGER NOT NULL REFERENCES responses (response_id) ON DELETE CASCADE,
    question_id TEXT NOT NULL,
    snapshot    INTEGER NOT NULL,
    PRIMARY KEY (response_id, question_id)
);

-- The secret key of the cell-key noise, per survey (random, made at the first snapshot).
CREATE TABLE report_keys (
    survey_id TEXT PRIMARY KEY,
    secret    TEXT NOT NULL
);

-- Each round of a survey has its own series of snapshots (bot/reports/snapshots.py): a
-- round's responses are a population of their own, and every view is of one round, so a
-- person who answered two rounds is never counted twice in one view. The rows from before
-- rounds are round 0's. SQLite cannot change a primary key in place; nothing refers to this
-- table, so it is copied.
CREATE TABLE report_snapshots_by_round (
    survey_id    TEXT NOT NULL,
    round_id     INTEGER NOT NULL DEFAULT 0,
    number       INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    population   INTEGER NOT NULL,
    released     TEXT NOT NULL,
    atoms        TEXT NOT NULL,
    views        TEXT NOT NULL,
    PRIMARY KEY (survey_id, round_id, number)
);

INSERT INTO report_snapshots_by_round
    (survey_id, round_id, number, published_at, population, released, atoms, views)
SELECT survey_id, 0, number, published_at, population, released, atoms, views
FROM report_snapshots;

DROP TABLE report_snapshots;
ALTER TABLE report_snapshots_by_round RENAME TO report_snapshots;

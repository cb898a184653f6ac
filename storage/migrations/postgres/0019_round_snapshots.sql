-- Each round of a survey has its own series of snapshots (bot/reports/snapshots.py): a
-- round's responses are a population of their own, and every view is of one round, so a
-- person who answered two rounds is never counted twice in one view. The rows from before
-- rounds are round 0's.
ALTER TABLE report_snapshots ADD COLUMN round_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE report_snapshots DROP CONSTRAINT report_snapshots_pkey;
ALTER TABLE report_snapshots ADD PRIMARY KEY (survey_id, round_id, number);

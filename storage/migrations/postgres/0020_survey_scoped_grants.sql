-- A coordinator limited to one survey (/grant survey=ID, bot/reports/access.py): given with
-- the grant link, kept with the role. NULL: every survey the bot runs.
ALTER TABLE grant_codes ADD COLUMN survey_id TEXT;
ALTER TABLE coordinators ADD COLUMN survey_id TEXT;

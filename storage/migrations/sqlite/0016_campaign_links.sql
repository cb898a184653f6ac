-- Campaign links (bot/reports/access.py, /campaign): a survey link for one source
-- ("amman-plenary"), t.me/<bot>?start=in-…, which an admin can close. They replace the
-- survey invitation links of 0014: those become links of source 'entry-link' valid for any
-- survey (`survey_id` NULL). Only a SHA-256 hash of each code is kept. `round_id` NULL: the
-- round open when the person starts. `uses_left` NULL: no limit.
--
-- `users.arrived_via` is the person's latest valid arrival (goes with the user row on
-- /delete); a response started after it keeps the link's source (`responses.source`, gone
-- with the response). HIWAR_COUNT_ONLY_INVITED now counts responses with a source, so those
-- of people admitted through a 0014 link get 'entry-link'.
CREATE TABLE campaign_links (
    code_hash  TEXT PRIMARY KEY,
    survey_id  TEXT,
    round_id   INTEGER,
    source     TEXT NOT NULL,
    created_by BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    uses_left  INTEGER CHECK (uses_left >= 0),
    arrivals   INTEGER NOT NULL DEFAULT 0,
    closed_at  TEXT
);

CREATE UNIQUE INDEX campaign_links_open ON campaign_links (survey_id, source)
    WHERE closed_at IS NULL;

INSERT INTO campaign_links (code_hash, source, created_by, created_at, uses_left)
    SELECT code_hash, 'entry-link', created_by, created_at, uses_left FROM entry_links;

DROP TABLE entry_links;

ALTER TABLE users ADD COLUMN arrived_via TEXT;

ALTER TABLE responses ADD COLUMN source TEXT;

UPDATE responses SET source = 'entry-link'
    WHERE user_id IN (SELECT user_id FROM users WHERE admitted_at IS NOT NULL);

ALTER TABLE users DROP COLUMN admitted_at;

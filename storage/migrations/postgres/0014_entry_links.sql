-- Survey invitation links (bot/reports/access.py, /entrylink): with HIWAR_COUNT_ONLY_INVITED,
-- only respondents who arrived through one count in reports, so accounts made up to pad a
-- group do not. Only a SHA-256 hash of each code is kept; `admitted_at` goes with the user
-- row on /delete.
CREATE TABLE entry_links (
    code_hash  TEXT PRIMARY KEY,
    created_by BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    uses_left  INTEGER NOT NULL CHECK (uses_left >= 0)
);

ALTER TABLE users ADD COLUMN admitted_at TEXT;

-- Each audit entry carries a digest of itself and of the entry before it (bot/core/access.py,
-- audit_digest), so that altering or removing an entry breaks the chain: `hiwar
-- verify-audit` says where. Entries written before this migration have none.
ALTER TABLE audit_log ADD COLUMN digest TEXT;

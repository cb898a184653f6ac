-- Grant links bound to a person (bot/reports/access.py): the one person who may use the link
-- (`for_user`), or the person who opened an unbound one and waits for the issuing admin's
-- confirmation (`opened_by`, `opened_name`, `opened_language`: whom to tell, in what language); links can be cancelled before they are used.
ALTER TABLE grant_codes ADD COLUMN for_user BIGINT;
ALTER TABLE grant_codes ADD COLUMN opened_by BIGINT;
ALTER TABLE grant_codes ADD COLUMN opened_name TEXT;
ALTER TABLE grant_codes ADD COLUMN opened_language TEXT;
ALTER TABLE grant_codes ADD COLUMN cancelled_at TEXT;

-- Scoped coordinators (bot/reports/access.py): the group of respondents a coordinator's
-- reports cover, as its group key (bot/reports/model.py `Scope`: 'country=iraq|jordan',
-- 'country=jordan&sector=education'; '*' is everyone). Given with the grant link, kept with
-- the role; a used link keeps it, so every scope ever given is known (bot/reports/scopes.py).
ALTER TABLE grant_codes ADD COLUMN scope TEXT NOT NULL DEFAULT '*';
ALTER TABLE coordinators ADD COLUMN scope TEXT NOT NULL DEFAULT '*';

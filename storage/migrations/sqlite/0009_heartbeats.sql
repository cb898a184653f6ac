-- Each running instance writes when it last could (heartbeat_at: the database is writable)
-- and when it last heard from Telegram (heard_at: updates are flowing); `hiwar health` and
-- the /healthz endpoint read them (bot/health.py).
ALTER TABLE instances ADD COLUMN heartbeat_at TEXT;
ALTER TABLE instances ADD COLUMN heard_at TEXT;

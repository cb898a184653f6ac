-- A typed answer remembers the message it came in, so that editing that message in Telegram
-- changes that answer and no other (bot/survey/service.py, edit_answer).
ALTER TABLE answers ADD COLUMN message_id BIGINT;

-- The last part of a paste that was refused as too long: Telegram splits a long paste into
-- several messages, and the parts after the first are refused with it, quietly.
ALTER TABLE responses ADD COLUMN paste_message_id BIGINT;
ALTER TABLE responses ADD COLUMN paste_sent_at TEXT;

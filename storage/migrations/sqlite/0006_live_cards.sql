-- The card of each chat and flow that still has live buttons (handlers/base/present.py):
-- when a newer card of the same flow gets buttons, the older one loses its own.
CREATE TABLE live_cards (
    chat_id    BIGINT NOT NULL,
    flow       TEXT NOT NULL,
    message_id BIGINT NOT NULL,
    PRIMARY KEY (chat_id, flow)
);

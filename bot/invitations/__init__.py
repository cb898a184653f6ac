"""Workshop invitations: the admins' /invite wizard, the delivery engine, RSVPs and reminders.

Layers: `wizard` and `audience` are pure rules; `service` holds the use cases behind the
handlers; `delivery` is the broadcast engine (Telegram-free: it talks to an `Outbox`);
`telegram` implements the `Outbox` with a PTB bot; `views` and `calendar` render.
"""

-- The citizens' notifications about their dossiers (issue 17), one per
-- dossier event, in Vietnamese and English. sms and email say what became
-- of the copy sent through the gateway: 'none' (no number or address, or no
-- gateway), 'pending' (written, not yet sent), 'sent' or 'failed'.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    dossier TEXT NOT NULL,
    kind TEXT NOT NULL,
    title_vi TEXT NOT NULL,
    title_en TEXT NOT NULL,
    body_vi TEXT NOT NULL,
    body_en TEXT NOT NULL,
    created_at TEXT NOT NULL,
    read_at TEXT NOT NULL DEFAULT '',
    sms TEXT NOT NULL DEFAULT 'none',
    email TEXT NOT NULL DEFAULT 'none'
);
CREATE INDEX notifications_pin ON notifications (pin, created_at);

-- The dossier events already turned into notifications (events.FirstReceipt):
-- a redelivered event makes no second one.
CREATE TABLE notify_receipts (
    event_id TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);

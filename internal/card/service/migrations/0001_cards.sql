-- Chip identity cards (thẻ căn cước). One row per card, from application to
-- its end; the card number printed on it is the holder's PIN, the serial
-- tells cards of one person apart. Every earlier state is a row of
-- card_history, so who moved a card to which status, when and why is kept.
CREATE TABLE cards (
    serial TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    status TEXT NOT NULL,
    applied_at TEXT NOT NULL,
    issue_date TEXT NOT NULL DEFAULT '',
    expiry_date TEXT NOT NULL DEFAULT '',
    lifetime INTEGER NOT NULL DEFAULT 0,
    signer_serial TEXT NOT NULL DEFAULT '',
    sod_hash TEXT NOT NULL DEFAULT '',
    chip {{blob}},
    mrz TEXT NOT NULL DEFAULT '',
    qr TEXT NOT NULL DEFAULT '',
    photo_ref TEXT NOT NULL DEFAULT '',
    fingerprint_ref TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    replaces TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX cards_pin ON cards (pin, applied_at);
CREATE INDEX cards_sod ON cards (sod_hash);

CREATE TABLE card_history (
    id {{autoinc}},
    serial TEXT NOT NULL,
    pin TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    by_actor TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX card_history_pin ON card_history (pin, id);

-- Biometric templates are synthetic in this project: the rows stand for what
-- an enrolment station would capture, referenced by content hash.
CREATE TABLE card_biometrics (
    ref TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data {{blob}} NOT NULL
);

-- At most one application in progress per person, even under concurrent
-- desks: the database refuses the second (partial indexes exist on both
-- engines).
CREATE UNIQUE INDEX cards_open ON cards (pin) WHERE status IN ('applied', 'approved', 'produced');

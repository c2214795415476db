-- The bundles module's tables (liên thông, Decree 63/2024): one
-- application across agencies run as a saga over events. Instants are
-- RFC 3339 UTC text; civil dates are Vietnam's, YYYY-MM-DD.

-- A bundle: one application (the parent dossier). form is JSON of what
-- was declared; subject_pin is the child's PIN once registered, or the
-- deceased's; dossier_code the services module's dossier of the civil
-- status step when the bundle was filed online ('' for a bundle confirmed
-- from an offer: the register had already recorded the event). The
-- parties lists, comma-framed, the PINs who follow the bundle (the filer,
-- the child's parents). The filer's idempotency key makes a second press answer the same bundle.
CREATE TABLE bundles (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner_pin TEXT NOT NULL,
    filed_by TEXT NOT NULL,
    subject_pin TEXT NOT NULL DEFAULT '',
    form TEXT NOT NULL,
    status TEXT NOT NULL,
    advice TEXT NOT NULL DEFAULT '',
    dossier_code TEXT NOT NULL DEFAULT '',
    offer_id TEXT NOT NULL DEFAULT '',
    parties TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    due_date TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_pin, idem_key)
);
CREATE INDEX bundles_owner ON bundles (owner_pin, filed_at);
CREATE INDEX bundles_subject ON bundles (subject_pin);

-- A step of a bundle: the child dossier of one agency, with its own due
-- date in working days. done_count counts the transitions to done (the
-- saga tests check it never passes 1).
CREATE TABLE bundle_steps (
    bundle_code TEXT NOT NULL,
    step TEXT NOT NULL,
    seq INTEGER NOT NULL,
    agency TEXT NOT NULL,
    procedure_code TEXT NOT NULL DEFAULT '',
    partner_id TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL DEFAULT '',
    commune TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    due_date TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0,
    done_count INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (bundle_code, step)
);
CREATE INDEX bundle_steps_agency ON bundle_steps (agency, status);

-- A partner's answer to a step it was sent, as the partner API received
-- it: the first answer of a step is kept, later ones (duplicates) are not.
CREATE TABLE bundle_answers (
    bundle_code TEXT NOT NULL,
    step TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    received_at TEXT NOT NULL,
    duplicates INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (bundle_code, step)
);

-- Where a partner takes the steps sent to it (a signed webhook), set by
-- the partner through the partner API. secret is the HMAC key the
-- requests are signed with (delivery.Sign).
CREATE TABLE bundle_endpoints (
    partner_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A proactive offer: the register recorded a birth or a death by any
-- route, and the people concerned (for_pin) are offered the follow-on
-- bundle already filled in (prefill, JSON) until expires_on, the end of
-- its legal window. Nothing is done until they confirm it.
CREATE TABLE bundle_offers (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject_pin TEXT NOT NULL,
    for_pin TEXT NOT NULL,
    role TEXT NOT NULL,
    prefill TEXT NOT NULL,
    effective TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    status TEXT NOT NULL,
    bundle_code TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    UNIQUE (kind, subject_pin, for_pin)
);
CREATE INDEX bundle_offers_for ON bundle_offers (for_pin, status);

-- The events the saga's and the offers' consumers applied
-- (events.FirstReceipt).
CREATE TABLE bundle_receipts (
    event_id TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);

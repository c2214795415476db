-- Payment intents for dossier fees, one live intent per dossier (created,
-- pending, paid or refunded); a failed or expired intent leaves room for a
-- new one. amount is in VND, an integer (the đồng has no minor unit in use).
-- Times are fixed-width UTC text, so they compare as text on both engines.
CREATE TABLE payment_intents (
    id TEXT PRIMARY KEY,
    dossier TEXT NOT NULL,
    amount BIGINT NOT NULL,
    payer TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    gateway TEXT NOT NULL,
    gateway_ref TEXT NOT NULL DEFAULT '',
    pay_url TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '',
    fail_reason TEXT NOT NULL DEFAULT '',
    receipt_no TEXT NOT NULL DEFAULT '',
    refund_ref TEXT NOT NULL DEFAULT '',
    refund_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    paid_at TEXT NOT NULL DEFAULT '',
    refunded_at TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX payment_intents_live ON payment_intents (dossier) WHERE state IN ('created', 'pending', 'paid', 'refunded');
CREATE INDEX payment_intents_dossier ON payment_intents (dossier, created_at);
CREATE INDEX payment_intents_ref ON payment_intents (gateway, gateway_ref);
CREATE INDEX payment_intents_paid ON payment_intents (gateway, paid_at);
CREATE INDEX payment_intents_refunded ON payment_intents (gateway, refunded_at);
CREATE INDEX payment_intents_expiry ON payment_intents (state, expires_at);
-- Every gateway callback applied, by the gateway's event id: the key makes a
-- replayed or duplicated callback change nothing.
CREATE TABLE payment_callbacks (
    gateway TEXT NOT NULL,
    event_id TEXT NOT NULL,
    intent_id TEXT NOT NULL,
    status TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (gateway, event_id)
);
-- The last receipt number given on each day (Vietnam's date).
CREATE TABLE payment_receipt_numbers (
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);
-- Each run of the daily reconciliation with its mismatches (JSON).
CREATE TABLE payment_reconciliations (
    id TEXT PRIMARY KEY,
    gateway TEXT NOT NULL,
    day TEXT NOT NULL,
    ran_at TEXT NOT NULL,
    lines INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    mismatches TEXT NOT NULL
);
CREATE INDEX payment_reconciliations_day ON payment_reconciliations (gateway, day, ran_at);

-- Electronic identification accounts (tài khoản định danh điện tử), one per
-- person. subject is the opaque identifier given to relying parties, so the
-- PIN never has to travel in a token unless a client is allowed to see it.
-- Phone numbers and TOTP secrets are sealed (AES-GCM) with the configured key.
CREATE TABLE eid_accounts (
    pin TEXT PRIMARY KEY,
    subject TEXT NOT NULL UNIQUE,
    level INTEGER NOT NULL,
    status TEXT NOT NULL,
    phone_sealed TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    created_via TEXT NOT NULL,
    guardian_pin TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    totp_sealed TEXT NOT NULL DEFAULT '',
    totp_confirmed INTEGER NOT NULL DEFAULT 0,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    activated_by TEXT NOT NULL DEFAULT '',
    status_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- A pending self-registration waiting for its one-time code. Only a hash of
-- the code is kept.
CREATE TABLE eid_enrolments (
    id TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    phone_sealed TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    guardian_pin TEXT NOT NULL DEFAULT '',
    code_hash TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    used INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX eid_enrolments_pin ON eid_enrolments (pin);
-- Failed sign-in counters, keyed by a keyed hash of the identifier typed
-- (whether an account exists or not, so throttling reveals nothing) or of the
-- client address.
CREATE TABLE eid_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    blocked_until TEXT NOT NULL DEFAULT ''
);
-- Life events already applied, so a redelivered message does nothing.
CREATE TABLE eid_processed_events (
    event_id TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);

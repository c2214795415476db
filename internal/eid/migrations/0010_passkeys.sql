-- Passkeys (WebAuthn credentials) of e-ID accounts. The credential id is the
-- key (base64url); credential holds the library's record (public key, flags,
-- AAGUID, transports) as JSON; sign_count is kept in its own column so that
-- a node raises it with a conditional UPDATE and two nodes cannot both accept
-- the same counter value. clone_warning is set when an authenticator
-- presents a counter at or below the stored one: the passkey is refused from
-- then on until its owner removes it.
CREATE TABLE eid_passkeys (
    id TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    sign_count BIGINT NOT NULL DEFAULT 0,
    user_verified INTEGER NOT NULL DEFAULT 0,
    clone_warning INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    last_used_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX eid_passkeys_pin ON eid_passkeys (pin);
-- WebAuthn ceremonies in flight. A challenge is deleted when it is used, so
-- it is good once, on any node; expired ones are purged. pin is '' for a
-- sign-in (the passkey names the account); bound ties a sign-in challenge to
-- the OpenID authorization request it was made for.
CREATE TABLE eid_webauthn_challenges (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    pin TEXT NOT NULL DEFAULT '',
    bound TEXT NOT NULL DEFAULT '',
    session TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX eid_webauthn_challenges_expires ON eid_webauthn_challenges (expires_at);

-- Sign-in sessions at the provider (single sign-on across relying
-- parties). The browser holds an opaque random id in a cookie; only its
-- hash is kept, so a copy of the table signs no one in. sid is the session
-- id relying parties see (ID tokens, back-channel logout tokens), distinct
-- from the cookie's. In the database, not in memory: every node serves
-- every session.
CREATE TABLE eid_oidc_sessions (
    id_hash TEXT PRIMARY KEY,
    sid TEXT NOT NULL,
    subject TEXT NOT NULL,
    level INTEGER NOT NULL,
    amr TEXT NOT NULL,
    auth_time TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX eid_oidc_sessions_sid ON eid_oidc_sessions (sid);
CREATE INDEX eid_oidc_sessions_expires ON eid_oidc_sessions (expires_at);
-- The relying parties a session signed in to, told of its end by
-- back-channel logout.
CREATE TABLE eid_oidc_session_clients (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    PRIMARY KEY (sid, client_id)
);
-- The session an authorization request was signed in by (its ID token's sid).
ALTER TABLE eid_oidc_auth_requests ADD COLUMN sid TEXT NOT NULL DEFAULT '';
-- OpenID Connect Back-Channel Logout 1.0: where a client is told a
-- session ended. Consent per field: the scopes a citizen may refuse.
ALTER TABLE eid_oidc_clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE eid_oidc_clients ADD COLUMN optional_scopes TEXT NOT NULL DEFAULT '[]';
-- Consent per field: the scopes a citizen refused (optional ones), so the
-- consent page is not shown again for them.
ALTER TABLE eid_consents ADD COLUMN declined TEXT NOT NULL DEFAULT '[]';

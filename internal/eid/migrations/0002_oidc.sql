-- The OpenID Connect provider's state lives in the database so that any node
-- serves any step of a flow and all nodes sign with the same keys.
-- Signing keys: private keys sealed with the configured secret; retired keys
-- stay published until retire_at so tokens they signed still verify.
CREATE TABLE eid_oidc_keys (
    id TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    private_sealed TEXT NOT NULL,
    created_at TEXT NOT NULL,
    retire_at TEXT NOT NULL DEFAULT ''
);
-- Relying parties. Only a hash of a client secret is kept; a client that
-- authenticates with private_key_jwt registers its public keys (JWK Set).
CREATE TABLE eid_oidc_clients (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL,
    grant_types TEXT NOT NULL,
    scopes TEXT NOT NULL,
    min_level INTEGER NOT NULL,
    dev_mode INTEGER NOT NULL DEFAULT 0,
    jwks TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
-- Authorization requests in flight, until their code is exchanged.
CREATE TABLE eid_oidc_auth_requests (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    request TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    level INTEGER NOT NULL DEFAULT 0,
    amr TEXT NOT NULL DEFAULT '',
    auth_time TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    code_hash TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX eid_oidc_auth_requests_code ON eid_oidc_auth_requests (code_hash);
-- Access tokens by id (jti), for introspection and revocation.
CREATE TABLE eid_oidc_tokens (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audience TEXT NOT NULL,
    level INTEGER NOT NULL,
    family TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX eid_oidc_tokens_family ON eid_oidc_tokens (family);
-- Refresh tokens by hash. Each use rotates the token; a used token presented
-- again revokes its whole family (every token descended from one sign-in).
CREATE TABLE eid_oidc_refresh (
    hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    subject TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audience TEXT NOT NULL,
    amr TEXT NOT NULL,
    level INTEGER NOT NULL,
    auth_time TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX eid_oidc_refresh_family ON eid_oidc_refresh (family);
-- Consent (Law 91/2025 Art. 9): what data, to whom, for what purpose, when;
-- withdrawable. One row per grant; a withdrawal closes it.
CREATE TABLE eid_consents (
    id {{autoinc}},
    subject TEXT NOT NULL,
    client_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    granted_at TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX eid_consents_subject ON eid_consents (subject, client_id);

-- Pushed authorization requests (RFC 9126), DPoP (RFC 9449) and one-time
-- values of client assertions.
-- A client may be registered as requiring pushed authorization requests
-- (plain authorization requests are then refused) and as requiring DPoP
-- (it never receives a token not bound to a key).
ALTER TABLE eid_oidc_clients ADD COLUMN require_par INTEGER NOT NULL DEFAULT 0;
ALTER TABLE eid_oidc_clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
-- The JWK SHA-256 thumbprint (RFC 7638) a token is bound to; empty for a
-- bearer token. Refresh tokens of public clients are bound too.
ALTER TABLE eid_oidc_tokens ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
ALTER TABLE eid_oidc_refresh ADD COLUMN jkt TEXT NOT NULL DEFAULT '';
-- Pushed authorization requests by hash of their request_uri, single use:
-- taking one deletes it. expires_at is in Unix seconds.
CREATE TABLE eid_oidc_par (
    hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    params TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX eid_oidc_par_expires ON eid_oidc_par (expires_at);
-- One-time values seen by any node, kept until they could no longer be
-- accepted anyway: jtis of DPoP proofs and of private_key_jwt client
-- assertions. kind says which; hash is SHA-256 of the key or client and the
-- jti. expires_at is in Unix seconds.
CREATE TABLE eid_oidc_jti (
    kind TEXT NOT NULL,
    hash TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, hash)
);
CREATE INDEX eid_oidc_jti_expires ON eid_oidc_jti (expires_at);

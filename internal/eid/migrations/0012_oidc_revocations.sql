-- Access tokens are self-contained JWTs and have no row each (a partner
-- system may ask for thousands a second). What stops one early is this
-- revocation list, kept only until the tokens it concerns have expired and
-- read incrementally by every node (by revoked_at) into memory:
--   kind 'jti'     key = a token id (RFC 7009 revocation of one access token);
--   kind 'sid'     key = a refresh-token family (the tokens' sid claim):
--                  reuse of a spent refresh token, revocation of a refresh token;
--   kind 'session' key = subject || ' ' || client_id: every token of that
--                  citizen at that client issued at or before revoked_at
--                  (logout, consent withdrawn).
-- revoked_at is in Unix milliseconds, expires_at in Unix seconds.
CREATE TABLE eid_oidc_revocations (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    revoked_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX eid_oidc_revocations_at ON eid_oidc_revocations (revoked_at);
CREATE INDEX eid_oidc_revocations_expires ON eid_oidc_revocations (expires_at);

-- An exchanged authorization code is remembered (exchanged = 1) with the
-- token family it produced, so a replay of the code revokes those tokens
-- (RFC 6749 §4.1.2, RFC 9700 §4.5) instead of merely failing.
ALTER TABLE eid_oidc_auth_requests ADD COLUMN family TEXT NOT NULL DEFAULT '';
ALTER TABLE eid_oidc_auth_requests ADD COLUMN exchanged INTEGER NOT NULL DEFAULT 0;

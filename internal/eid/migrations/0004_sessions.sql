-- Citizen portal sessions. Only a hash of the cookie token is kept, so a
-- copy of the table does not let anyone sign in; every node serves every
-- session.
CREATE TABLE eid_sessions (
    token_hash TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    level INTEGER NOT NULL,
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX eid_sessions_expires ON eid_sessions (expires_at);

-- A lease names a job that one node at a time may run (internal/lease):
-- the holder owns it until expires_ms (Unix milliseconds, the holder's
-- clock), renewing it while it works. Another node takes it only after
-- it expired, so a dead node's job moves on within one lease period.
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);

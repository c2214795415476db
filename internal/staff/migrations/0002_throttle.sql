-- Failed staff sign-ins, in internal/throttle's shape: keyed hashes of the
-- username typed (whether an account exists or not) and of the client
-- address; locked counters stay until an administrator lifts them.
CREATE TABLE staff_throttle (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    blocked_until TEXT NOT NULL DEFAULT '',
    locked INTEGER NOT NULL DEFAULT 0
);

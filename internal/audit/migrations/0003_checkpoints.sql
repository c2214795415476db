-- Signed checkpoints of the chain's head. A hash chain alone proves only
-- that the log is self-consistent: whoever can write the database can
-- rewrite every entry and the head and recompute every hash. A checkpoint
-- is (seq, hash of entry seq, time) signed with an Ed25519 key that is not
-- in the database, so a rewrite of any entry at or before a checkpoint no
-- longer matches it. Copies leave the database (a file, a JetStream
-- subject) so that deleting these rows is caught too.
CREATE TABLE audit_checkpoints (
    seq BIGINT PRIMARY KEY,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    pubkey TEXT NOT NULL,
    sig TEXT NOT NULL
);

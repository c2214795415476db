-- Idempotency keys of register acts (the API's Idempotency-Key header): a
-- client that lost the answer to a birth sends it again with the same key
-- and is answered with the child the first request registered, instead of
-- a second PIN for one child. Written in the act's transaction, so a key
-- exists exactly when its act committed.
CREATE TABLE register_requests (
    actor_id TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    pin TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (actor_id, idem_key)
);
CREATE INDEX register_requests_created ON register_requests (created_at);

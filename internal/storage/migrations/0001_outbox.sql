-- Transactional outbox: a module inserts its event in the same transaction as
-- the change, and the relay publishes it to NATS JetStream afterwards, so an
-- event exists if and only if its transaction committed.
CREATE TABLE outbox (
    id {{autoinc}},
    msg_id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    payload {{blob}} NOT NULL,
    created_at TEXT NOT NULL
);

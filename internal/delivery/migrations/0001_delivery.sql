-- Life-event subscriptions of partner systems and the deliveries made for
-- them. A subscription is a webhook (URL + signing secret, sealed because the
-- platform needs it in clear to sign) or a JetStream copy on
-- dancu.partner.<partner>.<type>.
CREATE TABLE delivery_subscriptions (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    mode TEXT NOT NULL,
    url TEXT NOT NULL DEFAULT '',
    secret_sealed TEXT NOT NULL DEFAULT '',
    active INTEGER NOT NULL DEFAULT 1,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX delivery_subscriptions_partner ON delivery_subscriptions (partner_id, active);
-- The event types of active subscriptions. The key keeps a partner from
-- subscribing twice to one type, so it never gets an event twice.
CREATE TABLE delivery_subscription_types (
    partner_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    PRIMARY KEY (partner_id, event_type)
);
CREATE INDEX delivery_subscription_types_type ON delivery_subscription_types (event_type);
-- One row per (event, subscription): the key makes the fan-out idempotent, so
-- a JetStream redelivery cannot create a second delivery. body is the exact
-- JSON the partner receives. status: pending, delivered, dead, cancelled.
CREATE TABLE delivery_queue (
    event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (event_id, subscription_id)
);
CREATE INDEX delivery_queue_due ON delivery_queue (partner_id, status, next_at);
CREATE INDEX delivery_queue_subscription ON delivery_queue (subscription_id, status);
-- Every attempt, for the partner's delivery log: no personal data, only ids,
-- codes and timings.
CREATE TABLE delivery_attempts (
    id {{autoinc}},
    event_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    at TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX delivery_attempts_partner ON delivery_attempts (partner_id, id);

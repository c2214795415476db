-- Partners of the data exchange and the policy each works under (JSON:
-- operations, fields, purposes, scope, rate limit, daily quota). version
-- counts policy changes, which are audited.
CREATE TABLE exchange_partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    policy TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- A partner's systems: OAuth clients of the e-ID provider (the client and
-- its hashed secret live in eid_oidc_clients), optionally bound to a TLS
-- client certificate by its SHA-256 fingerprint.
CREATE TABLE exchange_systems (
    client_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES exchange_partners (id),
    name TEXT NOT NULL,
    cert_fingerprint TEXT NOT NULL DEFAULT '',
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX exchange_systems_partner ON exchange_systems (partner_id);
-- Sector identifier schemes (tax code, social insurance number, health
-- insurance card number); one partner owns each and alone writes its links.
CREATE TABLE exchange_schemes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id TEXT NOT NULL REFERENCES exchange_partners (id),
    pattern TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
-- Links between a PIN and a sector identifier: one value per person and
-- scheme, one person per value.
CREATE TABLE exchange_sector_ids (
    scheme TEXT NOT NULL REFERENCES exchange_schemes (code),
    value TEXT NOT NULL,
    pin TEXT NOT NULL,
    written_by TEXT NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (scheme, value)
);
CREATE UNIQUE INDEX exchange_sector_ids_pin ON exchange_sector_ids (pin, scheme);
-- Which partners deal with which people (they verified, looked up,
-- reconciled, or hold a sector id of them): who may receive the person's
-- life events.
CREATE TABLE exchange_links (
    pin TEXT NOT NULL,
    partner_id TEXT NOT NULL,
    via TEXT NOT NULL,
    linked_at TEXT NOT NULL,
    PRIMARY KEY (pin, partner_id)
);
CREATE INDEX exchange_links_partner ON exchange_links (partner_id);
-- Calls per partner and day (Vietnam time), counted in batches by each node.
CREATE TABLE exchange_usage (
    partner_id TEXT NOT NULL,
    day TEXT NOT NULL,
    calls BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, day)
);

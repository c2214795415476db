-- The stay module's own tables: hosts (households, and partners'
-- properties: hotels, hospitals, dormitories) and the guests they report
-- (thông báo lưu trú, Luật Cư trú Art. 30; see internal/stay).
CREATE TABLE stay_hosts (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    partner_id TEXT NOT NULL DEFAULT '',
    head_pin TEXT NOT NULL DEFAULT '',
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX stay_hosts_partner ON stay_hosts (partner_id);

-- One row per guest reported by a host, keyed by the host's own reference
-- so that a repeated submission stores nothing twice. Times are Unix
-- seconds (UTC); due is the legal deadline of the report.
CREATE TABLE stay_guests (
    host_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    digest TEXT NOT NULL,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    pin TEXT NOT NULL DEFAULT '',
    passport TEXT NOT NULL DEFAULT '',
    nationality TEXT NOT NULL DEFAULT '',
    full_name TEXT NOT NULL,
    birth_date TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    arrival BIGINT NOT NULL,
    until_date TEXT NOT NULL DEFAULT '',
    reported BIGINT NOT NULL,
    due BIGINT NOT NULL,
    late INTEGER NOT NULL,
    departure BIGINT,
    PRIMARY KEY (host_id, ref)
);
CREATE INDEX stay_guests_commune ON stay_guests (commune, departure);

-- Temporary-residence registration offered to a citizen whose stay reaches
-- 30 days outside the commune of permanent residence (Art. 27), for at
-- most 2 years; the portal shows it.
CREATE TABLE stay_offers (
    pin TEXT NOT NULL,
    host_id TEXT NOT NULL,
    ref TEXT NOT NULL,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    offered BIGINT NOT NULL,
    PRIMARY KEY (host_id, ref)
);
CREATE INDEX stay_offers_pin ON stay_offers (pin);

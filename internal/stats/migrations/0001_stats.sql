-- The statistics module's own tables: counters maintained from the
-- register's and the card service's events (see internal/stats).
CREATE TABLE stats_receipts (
    event_id TEXT PRIMARY KEY,
    processed_at TEXT NOT NULL
);

-- One row per person ever seen: what the person adds to stats_counts now,
-- so an event moves the person's contribution from one cell to another.
CREATE TABLE stats_people (
    pin TEXT PRIMARY KEY,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    living INTEGER NOT NULL,
    carded INTEGER NOT NULL
);

-- Living people and living holders of a valid card, per commune of
-- permanent residence (2025 map), sex and year of birth.
CREATE TABLE stats_counts (
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    living BIGINT NOT NULL,
    carded BIGINT NOT NULL,
    PRIMARY KEY (commune, sex, birth_year)
);
CREATE INDEX stats_counts_province ON stats_counts (province);

-- Events per commune, kind (born, died, moved_in, moved_out) and month
-- (yyyy-mm of the effective date).
CREATE TABLE stats_flows (
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    kind TEXT NOT NULL,
    month TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (commune, kind, month)
);
CREATE INDEX stats_flows_province ON stats_flows (province);

CREATE TABLE stats_state (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

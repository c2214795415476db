-- Dossier indicators, kept from the dancu.dossier.* events (see
-- internal/stats/dossiers.go and docs/service-index.md).
--
-- One row per dossier seen: its last state as the events told it (at_ns is
-- the instant of the last event applied, so an older event arriving late
-- changes nothing) and what it adds to stats_dossier_counts now. While a
-- dossier is open (finished_on = '') its due date makes the overdue count
-- and the early warning, read per unit through stats_dossiers_open.
CREATE TABLE stats_dossiers (
    code TEXT PRIMARY KEY,
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    status TEXT NOT NULL,
    at_ns BIGINT NOT NULL,
    desk INTEGER NOT NULL,
    fee BIGINT NOT NULL,
    documents INTEGER NOT NULL,
    reused INTEGER NOT NULL,
    due TEXT NOT NULL,
    finished_on TEXT NOT NULL,
    stars INTEGER NOT NULL
);
CREATE INDEX stats_dossiers_open ON stats_dossiers (province, finished_on, due, commune);

-- Per receiving unit (commune '' for a provincial agency): the dossiers'
-- counts the service index is computed from (formulas in
-- docs/service-index.md).
CREATE TABLE stats_dossier_counts (
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    filed BIGINT NOT NULL,
    desk BIGINT NOT NULL,
    received BIGINT NOT NULL,
    digitized BIGINT NOT NULL,
    documents BIGINT NOT NULL,
    reused BIGINT NOT NULL,
    fee_due BIGINT NOT NULL,
    paid_online BIGINT NOT NULL,
    finished BIGINT NOT NULL,
    on_time BIGINT NOT NULL,
    late BIGINT NOT NULL,
    approved BIGINT NOT NULL,
    returned BIGINT NOT NULL,
    full_online BIGINT NOT NULL,
    rated BIGINT NOT NULL,
    stars BIGINT NOT NULL,
    PRIMARY KEY (province, commune)
);

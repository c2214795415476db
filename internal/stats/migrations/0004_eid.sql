-- e-ID activations per commune of the holder's permanent residence (when
-- the activation was counted) and level: dancu.eid.activated, counted once
-- per event id (internal/stats/eid.go).
CREATE TABLE stats_eid (
    province TEXT NOT NULL,
    commune TEXT NOT NULL,
    level INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (province, commune, level)
);

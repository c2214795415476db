-- Province totals kept beside the communes' counters (in the same
-- transaction), so the nation's dashboard reads 34 provinces' rows rather
-- than summing every commune's; covering indexes for a province's page.
DROP INDEX stats_counts_province;
CREATE INDEX stats_counts_province ON stats_counts (province, commune, sex, birth_year, living, carded);
DROP INDEX stats_flows_province;
CREATE INDEX stats_flows_province ON stats_flows (province, month, commune, kind, n);

CREATE TABLE stats_province_counts (
    province TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year INTEGER NOT NULL,
    living BIGINT NOT NULL,
    carded BIGINT NOT NULL,
    PRIMARY KEY (province, sex, birth_year)
);
INSERT INTO stats_province_counts (province, sex, birth_year, living, carded)
    SELECT province, sex, birth_year, SUM(living), SUM(carded) FROM stats_counts GROUP BY province, sex, birth_year;

CREATE TABLE stats_province_flows (
    province TEXT NOT NULL,
    kind TEXT NOT NULL,
    month TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (province, kind, month)
);
INSERT INTO stats_province_flows (province, kind, month, n)
    SELECT province, kind, month, SUM(n) FROM stats_flows GROUP BY province, kind, month;

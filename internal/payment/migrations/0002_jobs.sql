-- Each run of a scheduled payment job (expire: stale intents closed;
-- reconcile: the daily reconciliation of the gateway's statement), for the
-- administrators: when it ran, on which node, whether it succeeded and what
-- it found (a count, or the reconciliation's id and mismatches). day is the
-- Vietnamese date a reconciliation covered, '' for expire.
CREATE TABLE payment_job_runs (
    id TEXT PRIMARY KEY,
    job TEXT NOT NULL,
    day TEXT NOT NULL DEFAULT '',
    ran_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX payment_job_runs_job ON payment_job_runs (job, ran_at);

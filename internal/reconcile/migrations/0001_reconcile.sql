-- Bulk reconciliation: jobs, the uploaded file in chunks, one result per
-- data row, and the review queue of ambiguous rows.
CREATE TABLE reconcile_jobs (
    id           TEXT PRIMARY KEY,
    partner_id   TEXT NOT NULL,
    file_name    TEXT NOT NULL,
    state        TEXT NOT NULL,
    encoding     TEXT NOT NULL,
    header       TEXT NOT NULL,
    bytes        BIGINT NOT NULL DEFAULT 0,
    chunks       INTEGER NOT NULL DEFAULT 0,
    next_offset  BIGINT NOT NULL DEFAULT 0,
    next_line    BIGINT NOT NULL DEFAULT 0,
    rows_read    BIGINT NOT NULL DEFAULT 0,
    matched      BIGINT NOT NULL DEFAULT 0,
    ambiguous    BIGINT NOT NULL DEFAULT 0,
    not_found    BIGINT NOT NULL DEFAULT 0,
    errors       BIGINT NOT NULL DEFAULT 0,
    duplicates   BIGINT NOT NULL DEFAULT 0,
    decided      BIGINT NOT NULL DEFAULT 0,
    failure      TEXT NOT NULL DEFAULT '',
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    finished_at  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reconcile_jobs_partner ON reconcile_jobs (partner_id, created_at);
CREATE INDEX reconcile_jobs_state ON reconcile_jobs (state, created_at);

CREATE TABLE reconcile_chunks (
    job_id       TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    start_offset BIGINT NOT NULL,
    data         {{blob}} NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE TABLE reconcile_rows (
    job_id       TEXT NOT NULL,
    row_num      BIGINT NOT NULL,
    line         BIGINT NOT NULL,
    ref          TEXT NOT NULL,
    dup_key      TEXT NOT NULL,
    outcome      TEXT NOT NULL,
    pin          TEXT NOT NULL DEFAULT '',
    confidence   DOUBLE PRECISION NOT NULL DEFAULT 0,
    differences  TEXT NOT NULL DEFAULT '',
    dead         INTEGER NOT NULL DEFAULT 0,
    error_code   TEXT NOT NULL DEFAULT '',
    duplicate_of BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (job_id, row_num)
);
CREATE INDEX reconcile_rows_key ON reconcile_rows (job_id, dup_key);

CREATE TABLE reconcile_reviews (
    job_id       TEXT NOT NULL,
    row_num      BIGINT NOT NULL,
    partner_id   TEXT NOT NULL,
    record       TEXT NOT NULL,
    candidates   TEXT NOT NULL,
    state        TEXT NOT NULL,
    decision_pin TEXT NOT NULL DEFAULT '',
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    PRIMARY KEY (job_id, row_num)
);
CREATE INDEX reconcile_reviews_state ON reconcile_reviews (state, created_at);

-- Where each candidate of an open review lives, so a registrar's queue
-- lists only rows with a candidate in their unit.
CREATE TABLE reconcile_review_units (
    job_id   TEXT NOT NULL,
    row_num  BIGINT NOT NULL,
    pin      TEXT NOT NULL,
    province TEXT NOT NULL,
    commune  TEXT NOT NULL,
    PRIMARY KEY (job_id, row_num, pin)
);
CREATE INDEX reconcile_review_units_province ON reconcile_review_units (province);
CREATE INDEX reconcile_review_units_commune ON reconcile_review_units (commune);

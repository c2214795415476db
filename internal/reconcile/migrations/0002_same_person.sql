-- Rows of one file, with different data, that match the same register
-- person: each later row names the first (same_person_as), and the job
-- counts them. The partial index finds a job's earlier rows of a PIN
-- (only matched rows carry one).
ALTER TABLE reconcile_rows ADD COLUMN same_person_as BIGINT NOT NULL DEFAULT 0;
ALTER TABLE reconcile_jobs ADD COLUMN same_person BIGINT NOT NULL DEFAULT 0;
CREATE INDEX reconcile_rows_pin ON reconcile_rows (job_id, pin) WHERE pin <> '';

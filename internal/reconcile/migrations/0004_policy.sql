-- The partner's policy holds on reconciliation (issue 13): a job names the
-- purpose its partner declared, and a row that names a person keeps where
-- that person lives, so the report applies the partner's unit scope as it
-- stands at each download. Jobs of before have no purpose: their reports
-- are refused (policy.purpose_required), and their rows no unit: a scoped
-- partner is told nothing of them.
ALTER TABLE reconcile_jobs ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE reconcile_rows ADD COLUMN province TEXT NOT NULL DEFAULT '';
ALTER TABLE reconcile_rows ADD COLUMN commune TEXT NOT NULL DEFAULT '';

-- A registrar's decision names a person as a matched row does: the worker
-- looks a job's decided rows up by PIN too, to mark a later row of the same
-- person. Only decided reviews carry a PIN.
CREATE INDEX reconcile_reviews_decided ON reconcile_reviews (job_id, decision_pin) WHERE state = 'decided';

-- The different values each partner verified against each person per day
-- (Vietnam time), to bound probing (Policy.VerifyValuesPerPerson). digest
-- is a SHA-256 of the compared values, never the values; rows of past days
-- are deleted.
CREATE TABLE exchange_verify_probes (
    partner_id TEXT NOT NULL,
    pin TEXT NOT NULL,
    day TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (partner_id, pin, day, digest)
);
CREATE INDEX exchange_verify_probes_day ON exchange_verify_probes (day);

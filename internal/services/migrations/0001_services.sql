-- The services module's tables. Instants are RFC 3339 UTC text; civil dates
-- are Vietnam's, YYYY-MM-DD.

-- An administrator's version of a procedure (JSON of services.Procedure),
-- in force instead of the shipped one with the same code.
CREATE TABLE procedure_overrides (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- The last sequence number given to a receiving unit's dossiers on a day
-- (the XXXX of the dossier code, Circular 01/2018/TT-VPCP Art. 19).
CREATE TABLE dossier_sequences (
    unit_code TEXT NOT NULL,
    day TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (unit_code, day)
);

-- A dossier. form and attachments are JSON; clock is workday.Clock as JSON
-- ('' until the clock starts, when the fee is paid or at once without a
-- fee). idem_key is the filer's idempotency key and request_hash the
-- SHA-256 of what they sent with it: the same key with the same request
-- answers the same dossier, with another request a conflict.
CREATE TABLE dossiers (
    code TEXT PRIMARY KEY,
    procedure_code TEXT NOT NULL,
    owner_pin TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    province_code TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    status TEXT NOT NULL,
    form TEXT NOT NULL,
    attachments TEXT NOT NULL,
    fee INTEGER NOT NULL,
    clock TEXT NOT NULL DEFAULT '',
    due_date TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    result_document TEXT NOT NULL DEFAULT '',
    submitted_at TEXT NOT NULL,
    received_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    UNIQUE (owner_pin, idem_key)
);
CREATE INDEX dossiers_owner ON dossiers (owner_pin, submitted_at);
CREATE INDEX dossiers_unit ON dossiers (province_code, commune_code, status, submitted_at);

-- Every change of a dossier's state: who (an actor id), when, and the
-- reason or note given.
CREATE TABLE dossier_history (
    id {{autoinc}},
    code TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dossier_history_code ON dossier_history (code, id);

-- The filer's rating of a returned dossier: one per dossier.
CREATE TABLE dossier_ratings (
    code TEXT PRIMARY KEY,
    stars INTEGER NOT NULL,
    comment TEXT NOT NULL,
    rated_at TEXT NOT NULL
);
